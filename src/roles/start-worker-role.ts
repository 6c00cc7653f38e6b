import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Redis } from "ioredis";
import type { AppConfig } from "../config/config.js";
import { SalesforceClient } from "../data-access/salesforce/salesforce-client.js";
import { salesforceAuthOptionsFromConfig } from "../data-access/salesforce/salesforce-auth.js";
import { InMemoryTokenCache, RedisTokenCache, tokenCacheKey } from "../data-access/salesforce/token-cache.js";
import { MemorySyncStore } from "../data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../data-access/store/redis-sync-store.js";
import { queueReadinessCheck } from "../data-access/sqs/queue-readiness-check.js";
import { createStripeObjectReader } from "../data-access/stripe/stripe-object-reader.js";
import { loadMapping } from "../domain/sync/mapping-file.js";
import { effectiveObjects } from "../domain/sync/mapping.js";
import { createEventSyncer } from "../domain/sync/sync-events.js";
import type { ReadinessCheck } from "../entry-points/health/health-checks.js";
import { createWorker } from "../entry-points/worker/sqs-consumer.js";
import { startWorkerServer } from "../entry-points/worker/worker-server.js";
import { systemClock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import { LOCAL_SALESFORCE_EMULATOR_PORT } from "./local-defaults.js";

/** A started worker role. */
export interface RunningWorker {
  /** Lines for the local-mode banner. */
  notes: string[];
  stop(): Promise<void>;
}

/**
 * Starts the worker role: Salesforce client, sync store, Stripe re-reader, event syncer, the SQS
 * consumer and its health/metrics server. Local mode without SALESFORCE_LOGIN_URL starts the
 * Salesforce emulator; without Redis it keeps state in memory.
 */
export async function startWorkerRole(deps: {
  config: AppConfig;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string | undefined;
  redis: Redis | undefined;
  metrics: Metrics;
  logger: Logger;
  /** Readiness checks beyond the queue (Redis). */
  extraChecks: readonly ReadinessCheck[];
}): Promise<RunningWorker> {
  const { config, sqs, queueUrl, redis, metrics, logger } = deps;
  const notes: string[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const mapping = loadMapping(config.mappingFile);

  let salesforce = config.salesforce;
  if (!salesforce.loginUrl) {
    const { startSalesforceEmulator, DEFAULT_EMULATOR_CREDENTIALS } =
      await import("../emulator/salesforce/index.js");
    const emulator = await startSalesforceEmulator({
      port: Number(process.env.SALESFORCE_EMULATOR_PORT ?? LOCAL_SALESFORCE_EMULATOR_PORT),
      objects: effectiveObjects(mapping),
      credentials: DEFAULT_EMULATOR_CREDENTIALS,
      logger,
    });
    stoppers.push(() => emulator.stop());
    salesforce = {
      ...salesforce,
      loginUrl: emulator.url,
      authFlow: "client_credentials",
      clientId: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      clientSecret: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
    };
    notes.push(
      `local Salesforce emulator: ${emulator.url} (records: ${emulator.url}/__emulator/records/Stripe_Customer__c)`,
    );
  }

  const auth = salesforceAuthOptionsFromConfig(salesforce);
  const tokenCache = redis
    ? new RedisTokenCache({ redis, key: tokenCacheKey(auth.loginUrl, auth.clientId, auth.username) })
    : new InMemoryTokenCache();
  const writer = new SalesforceClient({
    auth,
    apiVersion: salesforce.apiVersion,
    tokenCache,
    logger,
    metrics,
    maxRecordsPerCall: config.worker.maxRecordsPerCall,
  });
  const store = redis ? new RedisSyncStore(redis) : new MemorySyncStore();
  if (!redis) notes.push("sync state (applied events, newest-wins stamps): in memory, lost on restart");
  const stripe = config.stripe.apiKey
    ? createStripeObjectReader({ apiKey: config.stripe.apiKey, apiBase: config.stripe.apiBase })
    : undefined;
  if (!stripe)
    logger.info(
      "no STRIPE_API_KEY: writing event payloads as delivered (same-second events apply in delivery order)",
    );

  const syncer = createEventSyncer({
    writer,
    store,
    stripe,
    mapping,
    metrics,
    clock: systemClock,
    idempotencyTtlSeconds: config.worker.idempotencyTtlSeconds,
  });
  const worker = createWorker({
    sqs,
    queueUrl,
    ...(deps.dlqUrl ? { dlqUrl: deps.dlqUrl } : {}),
    syncer,
    config: config.worker,
    metrics,
    logger,
  });
  const server = await startWorkerServer({
    port: config.worker.port,
    checks: [queueReadinessCheck(sqs, queueUrl), ...deps.extraChecks],
    metrics,
    logger,
    isAcceptingWork: () => worker.isRunning(),
  });
  await worker.start();
  notes.push(`worker health and metrics: http://localhost:${server.port}/health/ready, /metrics`);
  return {
    notes,
    async stop() {
      await worker.stop();
      await server.stop();
      for (const stop of stoppers) await stop();
    },
  };
}

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Redis } from "ioredis";
import type { AppConfig } from "../config/config.js";
import { salesforceAuthOptionsFromConfig } from "../data-access/salesforce/salesforce-auth.js";
import { SalesforceClient } from "../data-access/salesforce/salesforce-client.js";
import { InMemoryTokenCache, RedisTokenCache, tokenCacheKey } from "../data-access/salesforce/token-cache.js";
import { queueReadinessCheck } from "../data-access/sqs/queue-readiness-check.js";
import { MemorySyncStore } from "../data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../data-access/store/redis-sync-store.js";
import { createStripeObjectReader } from "../data-access/stripe/stripe-api-reader.js";
import type { Mapping } from "../domain/sync/mapping.js";
import { createEventSyncer, type EventSyncer } from "../domain/sync/sync-events.js";
import type { SyncStore } from "../domain/sync/sync-store-port.js";
import type { BackoffPolicy } from "../entry-points/worker/backoff.js";
import { createWorker, type Worker } from "../entry-points/worker/worker.js";
import { systemClock, type Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import type { ReadinessCheck } from "../shared/readiness-check.js";

/** What `buildWorker` needs: a resolved configuration (queue and org named) and the shared clients. */
export interface BuildWorkerOptions {
  config: AppConfig;
  sqs: SQSClient;
  /** The sync store and token cache live here; without it, in this process's memory (local mode). */
  redis: Redis | undefined;
  mapping: Mapping;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /** Retry delay curve (default 30 s doubling up to 900 s); tests shorten it. */
  backoff?: BackoffPolicy;
}

/** A worker and the parts it was built from, not started. */
export interface WorkerStack {
  worker: Worker;
  syncer: EventSyncer;
  salesforce: SalesforceClient;
  store: SyncStore;
  /** What `/health/ready` of the worker waits for. */
  checks: ReadinessCheck[];
}

/**
 * Builds the worker role from its configuration: Salesforce client (token shared through Redis),
 * sync store, Stripe re-reader (with STRIPE_API_KEY), event syncer and queue worker. Opens no
 * connection and starts nothing; the roles and the end-to-end tests both build workers here.
 */
export function buildWorker(options: BuildWorkerOptions): WorkerStack {
  const { config, sqs, redis, metrics, logger } = options;
  const clock = options.clock ?? systemClock;
  const queueUrl = config.sqs.queueUrl;
  if (!queueUrl)
    throw new Error("buildWorker: config.sqs.queueUrl is not set (resolve local fallbacks first)");
  const auth = salesforceAuthOptionsFromConfig(config.salesforce);
  const tokenCache = redis
    ? new RedisTokenCache({ redis, key: tokenCacheKey(auth.loginUrl, auth.clientId, auth.username) })
    : new InMemoryTokenCache();
  const salesforce = new SalesforceClient({
    auth,
    apiVersion: config.salesforce.apiVersion,
    tokenCache,
    logger,
    metrics,
    clock,
    maxRecordsPerCall: config.worker.maxRecordsPerCall,
  });
  const redisStore = redis ? new RedisSyncStore(redis, { clock }) : undefined;
  const store = redisStore ?? new MemorySyncStore({ clock });
  const stripe = config.stripe.apiKey
    ? createStripeObjectReader({ apiKey: config.stripe.apiKey, apiBase: config.stripe.apiBase })
    : undefined;
  const syncer = createEventSyncer({
    writer: salesforce,
    reader: salesforce,
    store,
    stripe,
    mapping: options.mapping,
    metrics,
    clock,
    idempotencyTtlSeconds: config.worker.idempotencyTtlSeconds,
  });
  const worker = createWorker({
    sqs,
    queueUrl,
    dlqUrl: config.sqs.dlqUrl,
    syncer,
    config: config.worker,
    metrics,
    logger,
    clock,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    // Before the first receive: the org answers, and the store's keys carry its id.
    prepare: async () => {
      const { orgId } = await salesforce.identity();
      redisStore?.scopeTo(orgId);
      logger.info("connected to the Salesforce org", { orgId });
    },
  });
  const checks = [queueReadinessCheck(sqs, queueUrl)];
  if (redis) checks.push({ name: "redis", check: async () => void (await redis.ping()) });
  return { worker, syncer, salesforce, store, checks };
}

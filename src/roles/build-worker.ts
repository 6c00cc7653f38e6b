import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Redis } from "ioredis";
import type { AppConfig } from "../config/config.js";
import { salesforceAuthOptionsFromConfig } from "../data-access/salesforce/salesforce-auth.js";
import { SalesforceClient } from "../data-access/salesforce/salesforce-client.js";
import { InMemoryTokenCache, RedisTokenCache, tokenCacheKey } from "../data-access/salesforce/token-cache.js";
import { queueReadinessCheck } from "../data-access/sqs/queue-readiness-check.js";
import { MemorySyncStore } from "../data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../data-access/store/redis-sync-store.js";
import { createApiBudget } from "../data-access/salesforce/api-budget.js";
import { MemoryTokenBucket, RedisTokenBucket, type TokenBucket } from "../data-access/store/token-bucket.js";
import { createStripeObjectReader } from "../data-access/stripe/stripe-api-reader.js";
import {
  STRIPE_READ_LIMITS,
  modeOfKey,
  rateLimitedReader,
} from "../data-access/stripe/rate-limited-reader.js";
import type { StripeObjectReader } from "../domain/sync/stripe-port.js";
import type { SalesforceWriter } from "../domain/sync/salesforce-port.js";
import type { Mapping } from "../domain/sync/mapping.js";
import { createEventSyncer, type EventSyncer } from "../domain/sync/sync-events.js";
import type { LeaseOptions, SyncStore } from "../domain/sync/sync-store-port.js";
import { checkMappingAgainstOrg } from "../domain/sync/check-mapping.js";
import type { PauseScope, ProbeSchedule } from "../entry-points/worker/pause-gate.js";
import { RetryableSyncError } from "../shared/errors.js";
import type { RetryPolicy } from "../entry-points/worker/backoff.js";
import { createWorker, type Worker } from "../entry-points/worker/worker.js";
import { systemClock, type Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import type { ReadinessCheck } from "../shared/readiness-check.js";
import type { Instrumentation } from "./instrumentation.js";

/** Daily API requests that must be left before a worker paused on the org's limit resumes. */
function resumeMargin(max: number): number {
  return Math.max(100, Math.ceil(max / 100));
}

/**
 * Whether Salesforce would take work again after a pause (it never writes a record): any answer
 * of the Limits resource ends an outage; the daily limit must have room again; an org-wide
 * refusal needs the mapped objects to describe as the mapping expects (a maintenance window then
 * shows in the first held write, which pauses again).
 */
async function probeSalesforce(
  scope: PauseScope,
  salesforce: SalesforceClient,
  checkOrg: () => Promise<void>,
): Promise<boolean> {
  if (scope === "org") {
    await checkOrg();
    return true;
  }
  const usage = await salesforce.apiUsage();
  return scope === "outage" || usage.max - usage.used > resumeMargin(usage.max);
}

/** Accounts whose bucket a worker keeps at once; the least recently used is dropped past it (a Redis bucket lives on in Redis). */
const MAX_ACCOUNT_BUCKETS = 10_000;

/**
 * The Stripe re-reader, its reads shared with every replica through one token bucket per Stripe
 * account and mode (Stripe limits each account on its own: the platform's reads, and each
 * connected account's, made with `Stripe-Account`), below Stripe's limit.
 */
function stripeReader(
  stripe: AppConfig["stripe"],
  redis: Redis | undefined,
  clock: Clock,
): StripeObjectReader {
  const apiKey = stripe.apiKey as string;
  const mode = modeOfKey(apiKey);
  const perSecond = stripe.readsPerSecond ?? STRIPE_READ_LIMITS[mode] * 0.8;
  const rate = { capacity: perSecond, perSecond };
  const buckets = new Map<string, TokenBucket>();
  const bucketOf = (account: string | undefined): TokenBucket => {
    const key = account ? `sfsync:stripe-reads:${mode}:${account}` : `sfsync:stripe-reads:${mode}`;
    let bucket = buckets.get(key);
    if (bucket) buckets.delete(key);
    else
      bucket = redis
        ? new RedisTokenBucket(redis, key, rate, { clock })
        : new MemoryTokenBucket(rate, { clock });
    buckets.set(key, bucket);
    if (buckets.size > MAX_ACCOUNT_BUCKETS) buckets.delete(buckets.keys().next().value as string);
    return bucket;
  };
  return rateLimitedReader(createStripeObjectReader({ apiKey, apiBase: stripe.apiBase }), bucketOf);
}

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
  /** Retry schedule (default DEFAULT_RETRY_POLICY); tests shorten it. */
  retry?: RetryPolicy;
  /** Record lease lifetime and wait (default DEFAULT_RECORD_LEASES); tests shorten it. */
  recordLeases?: LeaseOptions;
  /** Probe schedules of the worker's pauses (default DEFAULT_PROBE_SCHEDULES); tests shorten them. */
  probeSchedules?: Partial<Record<PauseScope, ProbeSchedule>>;
  /** Wraps the writer or the syncer (benchmarks: a writer that makes one call per record, a syncer that times acknowledgements). */
  decorate?: {
    writer?: (writer: SalesforceWriter) => SalesforceWriter;
    syncer?: (syncer: EventSyncer) => EventSyncer;
  };
  /** Spans per message, group, store round trip, Stripe read and Salesforce call (only when tracing is on). */
  instrumentation?: Instrumentation | undefined;
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
 * sync store, Stripe re-reader (with STRIPE_API_KEY), event syncer (one mode only with
 * STRIPE_EVENT_MODE) and queue worker (EventBridge envelopes from EVENTBRIDGE_SOURCES and
 * EVENTBRIDGE_AWS_ACCOUNTS). Opens no connection and starts nothing; the roles and the end-to-end
 * tests both build workers here.
 */
export function buildWorker(options: BuildWorkerOptions): WorkerStack {
  const { config, sqs, redis, metrics, logger, instrumentation } = options;
  const clock = options.clock ?? systemClock;
  const queueUrl = config.sqs.queueUrl;
  if (!queueUrl)
    throw new Error("buildWorker: config.sqs.queueUrl is not set (resolve local fallbacks first)");
  const auth = salesforceAuthOptionsFromConfig(config.salesforce);
  const tokenCache = redis
    ? new RedisTokenCache({ redis, key: tokenCacheKey(auth.loginUrl, auth.clientId, auth.username) })
    : new InMemoryTokenCache();
  // The org's id scopes every key of this service in Redis once the first token tells it.
  let orgId: string | undefined;
  const budget = config.salesforce.dailyApiBudget
    ? createApiBudget({
        dailyCalls: config.salesforce.dailyApiBudget,
        redis,
        keyPrefix: () => `sfsync:${orgId ?? "unscoped"}:`,
        metrics,
        logger,
        clock,
        orgUsed: () => salesforce.lastOrgUsage()?.used,
      })
    : undefined;
  const salesforce: SalesforceClient = new SalesforceClient({
    auth,
    apiVersion: config.salesforce.apiVersion,
    tokenCache,
    logger,
    metrics,
    clock,
    ...(budget ? { budget } : {}),
    ...(instrumentation ? { fetch: instrumentation.salesforceFetch(fetch) } : {}),
  });
  const redisStore = redis ? new RedisSyncStore(redis, { clock }) : undefined;
  const store = redisStore ?? new MemorySyncStore({ clock });
  const plainStripe = config.stripe.apiKey ? stripeReader(config.stripe, redis, clock) : undefined;
  const stripe = plainStripe && instrumentation ? instrumentation.stripeReader(plainStripe) : plainStripe;
  /** Describes the mapped objects; a problem stops consuming, an optional field the org lacks is left out. */
  const checkOrg = async () => {
    const check = await checkMappingAgainstOrg(options.mapping, salesforce);
    if (check.problems.length > 0) {
      throw new RetryableSyncError(
        "mapping_mismatch",
        `the org does not fit the mapping: ${check.problems.join("; ")}`,
        {
          scope: "org",
        },
      );
    }
    for (const missing of check.missingOptional) {
      const [objectName, field] = missing.split(".") as [string, string];
      const entry = Object.values(options.mapping.objects).find((object) => object.name === objectName);
      const defaultField = Object.entries(entry?.fields ?? {}).find(([, orgName]) => orgName === field)?.[0];
      if (entry && defaultField) delete entry.fields[defaultField];
      logger.warn("the org lacks an optional field; writes leave it out", { field: missing });
    }
  };
  const plainSyncer = createEventSyncer({
    writer: options.decorate?.writer?.(salesforce) ?? salesforce,
    reader: salesforce,
    store: instrumentation ? instrumentation.store(store, redisStore ? "redis" : "memory") : store,
    stripe,
    mapping: options.mapping,
    metrics,
    clock,
    idempotencyTtlSeconds: config.worker.idempotencyTtlSeconds,
    recordLeases: options.recordLeases,
    acceptedMode: config.stripe.eventMode,
  });
  const decorated = options.decorate?.syncer?.(plainSyncer) ?? plainSyncer;
  const messages = instrumentation?.messages(queueUrl);
  const syncer = messages ? messages.traceOutcomes(decorated) : decorated;
  const worker = createWorker({
    sqs,
    queueUrl,
    dlqUrl: config.sqs.dlqUrl,
    syncer,
    eventBridge: config.eventBridge,
    config: config.worker,
    metrics,
    logger,
    clock,
    ...(options.retry ? { retry: options.retry } : {}),
    // Before the first receive: the org answers, the store's keys carry its id, the mapping fits it.
    prepare: async () => {
      ({ orgId } = await salesforce.identity());
      redisStore?.scopeTo(orgId);
      await checkOrg();
      logger.info("connected to the Salesforce org; the mapping matches it", { orgId });
    },
    probe: (scope) => probeSalesforce(scope, salesforce, checkOrg),
    throttled: () => budget?.throttled(),
    ...(options.probeSchedules ? { probeSchedules: options.probeSchedules } : {}),
    tracing: messages,
  });
  const checks = [queueReadinessCheck(sqs, queueUrl)];
  if (redis) checks.push({ name: "redis", check: async () => void (await redis.ping()) });
  return { worker, syncer, salesforce, store, checks };
}

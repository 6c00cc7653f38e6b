// The worker side of `npm run bench:worker`, in its own process: the production worker wiring
// (createWorker + createEventSyncer + SalesforceClient + RedisSyncStore + RedisTokenCache) with the
// production defaults. BENCH_WORKER_MODE=naive hands the syncer a writer that makes one single-record
// Salesforce call per record instead of one collections call per object. Talks to bench/worker.ts
// over IPC: sends "started", answers "stop" with each event's acknowledgement time and its peak RSS.
import { loadConfig } from "../src/config/config.js";
import { salesforceAuthOptionsFromConfig } from "../src/data-access/salesforce/salesforce-auth.js";
import { SalesforceClient } from "../src/data-access/salesforce/salesforce-client.js";
import type { SalesforceWriter, UpsertAnswer } from "../src/domain/sync/salesforce-port.js";
import { RedisTokenCache, tokenCacheKey } from "../src/data-access/salesforce/token-cache.js";
import { createSqsClient } from "../src/data-access/sqs/create-sqs-client.js";
import { connectRedis } from "../src/data-access/store/connect-redis.js";
import { RedisSyncStore } from "../src/data-access/store/redis-sync-store.js";
import { loadMapping } from "../src/domain/sync/mapping-file.js";
import { createEventSyncer, type EventSyncer } from "../src/domain/sync/sync-events.js";
import { createWorker } from "../src/entry-points/worker/worker.js";
import { systemClock } from "../src/shared/clock.js";
import { createLogger } from "../src/shared/logger.js";
import { createMetrics } from "../src/shared/metrics.js";

/** What the child reports when it stops. */
export interface WorkerReport {
  type: "done";
  /** [event id, ms since the epoch when syncEvents answered it as written] */
  acks: [string, number][];
  /** Outcome counts as the syncer reported them (a retry is counted on each delivery). */
  outcomes: Record<string, number>;
  peakRssMiB: number;
  /** RSS when the worker started (wired, idle). */
  startRssMiB?: number;
  /** Records per collections call, from the worker's own histogram. */
  recordsPerCall: { calls: number; records: number };
}

/** One call per record: what a worker without batching does. */
function oneCallPerRecord(client: SalesforceWriter): SalesforceWriter {
  return {
    async upsertMany(requests) {
      // Parents first, as the batched writer does: each request after the one before it.
      const answers: UpsertAnswer[] = [];
      for (const request of requests) {
        const perRecord = await Promise.all(
          request.records.map((record) => client.upsertMany([{ ...request, records: [record] }])),
        );
        const failed = perRecord.find(([answer]) => answer && "error" in answer);
        answers.push(
          failed?.[0] ?? {
            results: perRecord.flatMap(([answer]) => (answer && "results" in answer ? answer.results : [])),
          },
        );
      }
      return answers;
    },
  };
}

async function main() {
  const mode = process.env.BENCH_WORKER_MODE === "naive" ? "naive" : "batched";
  const config = loadConfig("worker");
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const redis = connectRedis(config.redis.url!);
  const sqs = createSqsClient({ region: config.sqs.region ?? "us-east-1" });
  const auth = salesforceAuthOptionsFromConfig(config.salesforce);
  const client = new SalesforceClient({
    auth,
    apiVersion: config.salesforce.apiVersion,
    tokenCache: new RedisTokenCache({
      redis,
      key: tokenCacheKey(auth.loginUrl, auth.clientId, auth.username),
    }),
    logger,
    metrics,
  });
  const syncer = createEventSyncer({
    writer: mode === "naive" ? oneCallPerRecord(client) : client,
    reader: client,
    store: new RedisSyncStore(redis),
    stripe: undefined,
    mapping: loadMapping(config.mappingFile),
    metrics,
    clock: systemClock,
    idempotencyTtlSeconds: config.worker.idempotencyTtlSeconds,
  });

  // The moment each event's write was acknowledged: when syncEvents answered it applied (or stale:
  // superseded by a newer event of the same record written in the same call).
  const acks = new Map<string, number>();
  const outcomes: Record<string, number> = {};
  const timed: EventSyncer = {
    async syncEvents(items, log) {
      const answers = await syncer.syncEvents(items, log);
      const now = Date.now();
      answers.forEach((outcome, i) => {
        outcomes[outcome.status] = (outcomes[outcome.status] ?? 0) + 1;
        const id = items[i]?.event.id;
        if (id !== undefined && (outcome.status === "applied" || outcome.status === "stale") && !acks.has(id))
          acks.set(id, now);
      });
      return answers;
    },
  };

  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  const worker = createWorker({
    sqs,
    queueUrl: config.sqs.queueUrl!,
    syncer: timed,
    config: config.worker,
    metrics,
    logger,
  });

  process.on("message", (message: { type?: string }) => {
    if (message?.type !== "stop") return;
    void (async () => {
      await worker.stop();
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const histogram = await metrics.salesforceRecordsPerCall.get();
      const sum = (name: string) =>
        histogram.values.filter((v) => v.metricName === name).reduce((total, v) => total + v.value, 0);
      const report: WorkerReport = {
        type: "done",
        acks: [...acks],
        outcomes,
        peakRssMiB: mib(peakRss),
        recordsPerCall: {
          calls: sum("salesforce_records_per_call_count"),
          records: sum("salesforce_records_per_call_sum"),
        },
      };
      process.send!(report, () => {
        redis.disconnect();
        sqs.destroy();
        process.exit(0);
      });
    })();
  });

  // Wired and idle: the parent fills the queue, then says "start".
  process.on("message", (message: { type?: string }) => {
    if (message?.type !== "start") return;
    const startedAt = Date.now();
    void worker
      .start()
      .then(() => process.send!({ type: "started", at: startedAt, rssMiB: mib(process.memoryUsage.rss()) }));
  });
  process.send!({ type: "ready", mode });
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

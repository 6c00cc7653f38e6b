// The worker side of `npm run bench:worker`, in its own process: the production worker built by
// the composition root (src/roles/build-worker.ts) from its environment, as `node dist/main.js
// worker` builds it. BENCH_WORKER_MODE=naive gives it a writer that makes one Salesforce call per
// record. Talks to bench/worker.ts over IPC: "ready" once built, "started" when told to start,
// and on "stop" each event's acknowledgement time, its outcomes and its peak RSS.
import { loadConfig } from "../src/config/config.js";
import { createSqsClient } from "../src/data-access/sqs/create-sqs-client.js";
import { connectRedis } from "../src/data-access/store/connect-redis.js";
import { loadMapping } from "../src/domain/sync/mapping-file.js";
import type { SalesforceWriter, UpsertAnswer } from "../src/domain/sync/salesforce-port.js";
import type { EventSyncer } from "../src/domain/sync/sync-events.js";
import { buildWorker } from "../src/roles/build-worker.js";
import { createLogger } from "../src/shared/logger.js";
import { createMetrics } from "../src/shared/metrics.js";

/** What the child reports when it stops. */
export interface WorkerReport {
  type: "done";
  /** [event id, ms since the epoch when syncEvents answered it as written] */
  acks: [string, number][];
  /** Outcome counts as the syncer reported them (a retry is counted on each try). */
  outcomes: Record<string, number>;
  peakRssMiB: number;
  /** RSS when the worker started (wired, idle). */
  startRssMiB?: number;
}

/** One call per record, parents first: what a worker without batching does. */
function oneCallPerRecord(client: SalesforceWriter): SalesforceWriter {
  return {
    async upsertMany(requests) {
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

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function main() {
  const mode = process.env.BENCH_WORKER_MODE === "naive" ? "naive" : "batched";
  const config = loadConfig("worker");
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const redis = connectRedis(config.redis.url!);
  const sqs = createSqsClient({ region: config.sqs.region ?? "us-east-1" });

  // When each event's write was acknowledged: syncEvents answered it applied, stale (superseded by
  // a newer event of the same record in the same call) or duplicate.
  const acks = new Map<string, number>();
  const outcomes: Record<string, number> = {};
  const timed = (syncer: EventSyncer): EventSyncer => ({
    async syncEvents(items, log) {
      const answers = await syncer.syncEvents(items, log);
      const now = Date.now();
      answers.forEach((outcome, i) => {
        outcomes[outcome.status] = (outcomes[outcome.status] ?? 0) + 1;
        const id = items[i]?.event.id;
        const isDone =
          outcome.status === "applied" || outcome.status === "stale" || outcome.status === "duplicate";
        if (id !== undefined && isDone && !acks.has(id)) acks.set(id, now);
      });
      return answers;
    },
  });
  const stack = buildWorker({
    config,
    sqs,
    redis,
    mapping: loadMapping(config.mappingFile),
    metrics,
    logger,
    decorate: { syncer: timed, ...(mode === "naive" ? { writer: oneCallPerRecord } : {}) },
  });

  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  process.on("message", (message: { type?: string }) => {
    if (message?.type === "start") {
      const startedAt = Date.now();
      void stack.worker.start().then(async () => {
        // Started means consuming: after the org check of `prepare`.
        while (!stack.worker.isRunning()) await new Promise((resolve) => setTimeout(resolve, 10));
        process.send!({ type: "started", at: startedAt, rssMiB: mib(process.memoryUsage.rss()) });
      });
    }
    if (message?.type === "state") process.send!({ type: "state", state: stack.worker.state() });
    if (message?.type !== "stop") return;
    void (async () => {
      await stack.worker.stop();
      clearInterval(sampler);
      const report: WorkerReport = {
        type: "done",
        acks: [...acks],
        outcomes,
        peakRssMiB: mib(Math.max(peakRss, process.memoryUsage.rss())),
      };
      process.send!(report, () => {
        redis.disconnect();
        sqs.destroy();
        process.exit(0);
      });
    })();
  });
  process.send!({ type: "ready", mode });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

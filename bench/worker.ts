// npm run bench:worker — the worker against a real SQS-compatible queue (fauxqs), a real
// redis-server and the Salesforce emulator, each in its own process, with the worker built by the
// composition root as in production. Baselines are measured in the same run: the same worker
// writing one Salesforce call per record. Figures are printed as Markdown tables for the README.
import type { StripeEvent } from "../src/domain/stripe-event.js";
import type { WorkerReport } from "./worker-process.js";
import { buildBacklog, recordsPresent, type Backlog } from "./worker-backlog.js";
import {
  addFault,
  emulatorStats,
  enqueue,
  lagsOf,
  percentile,
  spawnWorker,
  startServers,
  waitUntilDrained,
  type Servers,
} from "./worker-run.js";
import { describeMachine, printTable } from "./support.js";

const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600);
const sizes = (process.env.BENCH_BACKLOGS ?? "2000:200,10000:2000").split(",").map((pair) => {
  const [events, customers] = pair.split(":").map(Number);
  return { events: events!, customers: customers! };
});

/** What one backlog run measured. */
interface BacklogResult {
  seconds: number;
  apiCalls: number;
  /** Query calls and query subrequests: the reads of the org. */
  reads: number;
  lags: number[];
  report: WorkerReport;
  startRssMiB: number;
}

/** Enqueues a backlog on `servers`, starts a worker, waits until every record landed. */
async function drainBacklog(
  servers: Servers,
  backlog: Backlog,
  mode: "batched" | "naive",
  env: NodeJS.ProcessEnv = {},
): Promise<BacklogResult> {
  const before = await emulatorStats(servers.emulator.url);
  const present = await recordsPresent(servers.emulator.url, backlog.expected);
  const worker = await spawnWorker(servers, mode, env);
  const sentAt = await enqueue(servers.sqs, servers.queueUrl, backlog.events);
  const started = await worker.start();
  const drainedAt = await waitUntilDrained(
    servers,
    async () =>
      (await recordsPresent(servers.emulator.url, backlog.expected)) >= Math.max(present, backlog.records),
    timeoutSeconds,
  );
  const report = await worker.stop();
  const after = await emulatorStats(servers.emulator.url);
  const reads = (s: typeof after) =>
    (s.apiCalls.byOperation.query ?? 0) + (s.apiCalls.subrequestsByOperation?.query ?? 0);
  return {
    seconds: (drainedAt - started.at) / 1000,
    apiCalls: after.apiCalls.total - before.apiCalls.total,
    reads: reads(after) - reads(before),
    lags: lagsOf(report, sentAt),
    report,
    startRssMiB: started.rssMiB,
  };
}

const s = (ms: number) => (ms / 1000).toFixed(2);

function backlogRow(label: string, events: number, r: BacklogResult): (string | number)[] {
  return [
    label,
    r.seconds.toFixed(1),
    (events / r.seconds).toFixed(0),
    r.apiCalls,
    (events / Math.max(1, r.apiCalls)).toFixed(0),
    r.reads,
    s(percentile(r.lags, 50)),
    s(percentile(r.lags, 99)),
    s(r.lags.at(-1) ?? NaN),
    `${r.startRssMiB} / ${r.report.peakRssMiB}`,
  ];
}

/** Backlogs: batched against naive, each on fresh servers. */
async function backlogs(): Promise<Map<number, { batched: BacklogResult; naive: BacklogResult }>> {
  const rows: (string | number)[][] = [];
  const results = new Map<number, { batched: BacklogResult; naive: BacklogResult }>();
  for (const size of sizes) {
    const backlog = buildBacklog(size.events, size.customers);
    const run = async (mode: "batched" | "naive") => {
      const servers = await startServers(`${mode}-${size.events}`);
      try {
        return await drainBacklog(servers, backlog, mode);
      } finally {
        await servers.stop();
      }
    };
    const batched = await run("batched");
    const naive = await run("naive");
    results.set(size.events, { batched, naive });
    const what = `${size.events} events, ${size.customers} customers (${backlog.records} records)`;
    rows.push(
      backlogRow(`${what}: batched`, size.events, batched),
      backlogRow(`${what}: one call per record`, size.events, naive),
    );
  }
  printTable(
    [
      "backlog",
      "drain s",
      "events/s",
      "Salesforce API calls (all)",
      "events per call",
      "org reads",
      "p50 lag s",
      "p99 lag s",
      "max lag s",
      "RSS MiB idle / peak",
    ],
    rows,
  );
  return results;
}

/** The same records twice: the first backlog on an empty store (every record read from the org), the second on a warm one. */
async function readThrough(): Promise<void> {
  const size = sizes[0]!;
  const servers = await startServers("read-through");
  try {
    const cold = await drainBacklog(servers, buildBacklog(size.events, size.customers, "cold"), "batched");
    const warm = await drainBacklog(servers, buildBacklog(size.events, size.customers, "warm"), "batched");
    const cut = (r: BacklogResult) => [
      r.apiCalls,
      r.reads,
      (size.events / Math.max(1, r.apiCalls)).toFixed(0),
    ];
    printTable(
      ["store (same records, new events)", "Salesforce API calls", "org reads (queries)", "events per call"],
      [
        [`empty (a new or flushed Redis): ${size.events} events`, ...cut(cold)],
        [`warm (the records known): ${size.events} more events`, ...cut(warm)],
      ],
    );
  } finally {
    await servers.stop();
  }
}

/** Sends `events` one every `everyMs` while a started worker runs; resolves with the send times. */
async function trickle(
  servers: Servers,
  events: StripeEvent[],
  everyMs: number,
): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  for (const event of events) {
    for (const [id, at] of await enqueue(servers.sqs, servers.queueUrl, [event])) sentAt.set(id, at);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return sentAt;
}

/** Latency and failures: an idle stream, an outage, a locked row, a bad record among 200. */
async function latencyAndFailures(naiveCalls: number | undefined): Promise<void> {
  const rows: (string | number)[][] = [];
  const customerEvents = (tag: string, count: number) =>
    buildBacklog(count * 5, count, tag).events.filter((e) => e.type === "customer.updated");

  // One event every 200 ms: no backlog, so groups are written as soon as a receive comes back empty.
  {
    const servers = await startServers("low-rate");
    const worker = await spawnWorker(servers, "batched");
    await worker.start();
    const sentAt = await trickle(servers, customerEvents("slow", 50), 200);
    await waitUntilDrained(servers, async () => true, 60);
    const lags = lagsOf(await worker.stop(), sentAt);
    rows.push([
      "one event every 200 ms (50 events): send to written",
      `p50 ${percentile(lags, 50)} ms, p99 ${percentile(lags, 99)} ms, max ${lags.at(-1)} ms`,
      "",
    ]);
    await servers.stop();
  }
  // Salesforce answers 503 for 20 s while events keep coming: time from its first healthy answer to the last event written.
  {
    const servers = await startServers("outage");
    const worker = await spawnWorker(servers, "batched");
    await worker.start();
    const events = customerEvents("outage", 100);
    const faultAt = Date.now() + 1000;
    const sending = trickle(servers, events, 250);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await addFault(servers.emulator.url, { type: "http_error", status: 503, forMs: 20_000 });
    await sending;
    await waitUntilDrained(servers, async () => true, 120);
    const report = await worker.stop();
    const lastAck = Math.max(...report.acks.map(([, at]) => at));
    const healthyAt = faultAt + 20_000;
    const dead = (await emulatorStats(servers.emulator.url)).records.failed;
    rows.push([
      "Salesforce down (503) for 20 s while 4 events/s arrive: first healthy answer to the last event written",
      `${((lastAck - healthyAt) / 1000).toFixed(2)} s`,
      `${report.outcomes.applied ?? 0} applied, ${dead} records failed, none dead-lettered`,
    ]);
    await servers.stop();
  }
  // A row locked once.
  {
    const servers = await startServers("lock");
    const worker = await spawnWorker(servers, "batched");
    await worker.start();
    await addFault(servers.emulator.url, { type: "lock_row", count: 1 });
    const sentAt = await enqueue(servers.sqs, servers.queueUrl, customerEvents("lock", 1));
    await waitUntilDrained(servers, async () => true, 60);
    const lags = lagsOf(await worker.stop(), sentAt);
    rows.push([
      "a record locked once (UNABLE_TO_LOCK_ROW): sent to written",
      `${lags[0]} ms`,
      "retried inside the worker",
    ]);
    await servers.stop();
  }
  // One record among 200 makes Salesforce refuse a whole request; the same 200 clean, as the baseline.
  {
    const events = customerEvents("poison", 200);
    const run = async (poisoned: boolean) => {
      const servers = await startServers(poisoned ? "poisoned" : "clean");
      try {
        const worker = await spawnWorker(servers, "batched");
        await enqueue(
          servers.sqs,
          servers.queueUrl,
          events.map((e) => structuredClone(e)),
        );
        if (poisoned)
          await addFault(servers.emulator.url, {
            type: "poison_record",
            externalId: String(events[137]!.data.object.id),
          });
        const started = await worker.start();
        const drained = await waitUntilDrained(servers, async () => true, 60);
        await worker.stop();
        return {
          calls: (await emulatorStats(servers.emulator.url)).apiCalls.total,
          seconds: (drained - started.at) / 1000,
        };
      } finally {
        await servers.stop();
      }
    };
    const clean = await run(false);
    const poisoned = await run(true);
    rows.push([
      "one bad record among 200 (the whole request refused): extra calls to isolate it, drain",
      `${poisoned.calls - clean.calls} extra calls; ${poisoned.seconds.toFixed(2)} s (clean: ${clean.seconds.toFixed(2)} s)`,
      "the bad one dead-lettered, 199 written",
    ]);
  }
  printTable(["scenario", "measured", "note"], rows);
  console.log();

  // A daily budget of a tenth of the naive calls for the first backlog.
  if (naiveCalls !== undefined) {
    const size = sizes[0]!;
    const budget = Math.max(10, Math.floor(naiveCalls / 10));
    const servers = await startServers("budget");
    try {
      const result = await drainBacklog(
        servers,
        buildBacklog(size.events, size.customers, "budget"),
        "batched",
        {
          SALESFORCE_DAILY_API_BUDGET: String(budget),
        },
      );
      printTable(
        ["daily API budget", "calls made", "drain s", "all records written"],
        [
          [
            `${budget} (a tenth of the ${naiveCalls} calls one-call-per-record needs for ${size.events} events)`,
            result.apiCalls,
            result.seconds.toFixed(1),
            "yes",
          ],
        ],
      );
    } finally {
      await servers.stop();
    }
  }
}

/**
 * The emulator answers in about a millisecond; a real org takes 100-300 ms a call. The first backlog
 * again, with every Salesforce call held `BENCH_ORG_LATENCY_MS` (150) by the emulator's latency fault:
 * here the calls, not the queue, set the pace.
 */
async function orgLatency(): Promise<void> {
  const latencyMs = Number(process.env.BENCH_ORG_LATENCY_MS ?? 150);
  const size = sizes[0]!;
  const backlog = buildBacklog(size.events, size.customers, "latency");
  const rows: (string | number)[][] = [];
  for (const mode of ["batched", "naive"] as const) {
    const servers = await startServers(`latency-${mode}`);
    try {
      await addFault(servers.emulator.url, { type: "latency", ms: latencyMs, forMs: 24 * 3_600_000 });
      const r = await drainBacklog(servers, backlog, mode);
      rows.push([
        `${size.events} events, ${mode === "batched" ? "batched" : "one call per record"}`,
        r.seconds.toFixed(1),
        (size.events / r.seconds).toFixed(0),
        r.apiCalls,
        s(percentile(r.lags, 99)),
      ]);
    } finally {
      await servers.stop();
    }
  }
  printTable(
    [`org answering in ${latencyMs} ms a call`, "drain s", "events/s", "Salesforce API calls", "p99 lag s"],
    rows,
  );
}

async function main() {
  console.log(`machine: ${describeMachine()}`);
  console.log(
    "each run: fauxqs, redis-server, the Salesforce emulator and the worker in their own processes, fresh",
  );
  console.log(
    "lag: the event's send to SQS -> syncEvents answered it written (Salesforce acknowledged, Redis committed)\n",
  );
  const results = await backlogs();
  console.log();
  if (process.env.BENCH_ORG_LATENCY_MS !== "0") {
    await orgLatency();
    console.log();
  }
  await readThrough();
  console.log();
  await latencyAndFailures(results.get(sizes[0]!.events)?.naive.apiCalls);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

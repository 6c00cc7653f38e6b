// npm run bench:worker — a backlog of real-shaped Stripe events on a real SQS-compatible queue
// (fauxqs), drained by one worker process wired as in production (Redis store and token cache on a
// real redis-server, Salesforce client against the emulator in its own process), next to the same
// worker making one Salesforce call per record, measured in the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { StripeEvent } from "../src/domain/stripe-event.js";
import { defaultMapping, orgExternalIdField } from "../src/domain/sync/mapping.js";
import type { DefaultObjectName } from "../src/domain/sync/mapped-record.js";
import { DEFAULT_EMULATOR_CREDENTIALS } from "../src/emulator/salesforce/index.js";
import type { EmulatorStatsSnapshot } from "../src/emulator/salesforce/index.js";
import { freePort, startChild, type ChildServer } from "../test/support/child-server.js";
import { startRedisServer } from "../test/support/redis-server.js";
import { startSqsServer, sqsEnv } from "../test/support/sqs-server.js";
import { loadEvent } from "../test/sync/support/sync-fixtures.js";
import { describeMachine, printTable } from "./support.js";
import type { WorkerReport } from "./worker-process.js";

const eventCount = Number(process.env.BENCH_EVENTS ?? 10000);
const customerCount = Number(process.env.BENCH_CUSTOMERS ?? Math.max(1, Math.round(eventCount / 5)));
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 600);
const sendParallelism = 16;
const repo = fileURLToPath(new URL("..", import.meta.url));
const TYPES = [
  "customer.updated",
  "customer.subscription.updated",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "checkout.session.completed",
] as const;

/** The backlog, and the External IDs that must be in Salesforce once it is drained. */
interface Backlog {
  events: StripeEvent[];
  expected: Map<DefaultObjectName, Set<string>>;
}

/** `eventCount` events over `customerCount` customers, in a fixed pseudo-random order. */
function buildBacklog(): Backlog {
  const templates = Object.fromEntries(TYPES.map((type) => [type, loadEvent(type)])) as Record<
    (typeof TYPES)[number],
    StripeEvent
  >;
  const expected = new Map<DefaultObjectName, Set<string>>([
    ["Stripe_Customer__c", new Set()],
    ["Stripe_Subscription__c", new Set()],
    ["Payment_Transaction__c", new Set()],
  ]);
  const expect = (object: DefaultObjectName, id: string) => expected.get(object)!.add(id);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const events: StripeEvent[] = [];
  for (let i = 0; i < eventCount; i++) {
    const type = TYPES[i % TYPES.length]!;
    const event = structuredClone(templates[type]);
    const c = Math.floor(random() * customerCount);
    const customer = `cus_bench_${c}`;
    const subscription = `sub_bench_${c}`;
    const object = event.data.object as Record<string, unknown>;
    event.id = `evt_bench_${i}`;
    switch (type) {
      case "customer.updated":
        Object.assign(object, { id: customer, name: `Bench Customer ${c}`, email: `bench+${c}@example.com` });
        object.balance = -i;
        break;
      case "customer.subscription.updated":
        Object.assign(object, { id: subscription, customer });
        expect("Stripe_Subscription__c", subscription);
        break;
      case "payment_intent.succeeded":
      case "payment_intent.payment_failed":
        Object.assign(object, { id: `pi_bench_${i}`, customer, amount: 1000 + i });
        expect("Payment_Transaction__c", `pi_bench_${i}`);
        break;
      case "checkout.session.completed":
        Object.assign(object, { id: `cs_bench_${i}`, customer, subscription });
        expect("Stripe_Subscription__c", subscription);
        break;
    }
    expect("Stripe_Customer__c", customer);
    events.push(event);
  }
  return { events, expected };
}

/** Puts the backlog on the queue (SendMessageBatch of 10, `sendParallelism` at once); `created` is the send time. */
async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  events: StripeEvent[],
): Promise<Map<string, number>> {
  const enqueuedAt = new Map<string, number>();
  let next = 0;
  const sender = async () => {
    while (next < events.length) {
      const batch = events.slice(next, next + 10);
      next += batch.length;
      const now = Date.now();
      const entries = batch.map((event, i) => {
        event.created = Math.floor(now / 1000);
        enqueuedAt.set(event.id, now);
        const attribute = (value: string) => ({ DataType: "String", StringValue: value });
        return {
          Id: `m${i}`,
          MessageBody: JSON.stringify(event),
          MessageAttributes: {
            event_id: attribute(event.id),
            event_type: attribute(event.type),
            correlation_id: attribute(event.id),
          },
        };
      });
      const answer = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (answer.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(answer.Failed)}`);
    }
  };
  await Promise.all(Array.from({ length: sendParallelism }, sender));
  return enqueuedAt;
}

/** The Salesforce emulator in its own process, as `main.ts salesforce-emulator` runs it. */
async function startEmulator(): Promise<ChildServer & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(
    process.execPath,
    ["--import", "tsx", "src/main.ts", "salesforce-emulator"],
    {
      name: "salesforce-emulator",
      port,
      env: {
        SALESFORCE_EMULATOR_PORT: String(port),
        SALESFORCE_EMULATOR_HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
        SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
        MAPPING_FILE: "",
      },
      ready: async () => (await fetch(`${url}/__emulator/stats`)).ok,
    },
  );
  return { ...child, url };
}

async function emulatorStats(url: string): Promise<EmulatorStatsSnapshot> {
  return (await fetch(`${url}/__emulator/stats`)).json() as Promise<EmulatorStatsSnapshot>;
}

async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** A wired, idle worker process (bench/worker-process.ts); `start()` starts its worker. */
interface WorkerChild {
  child: ChildProcess;
  /** Starts the worker; resolves with the time it started and its RSS then. */
  start(): Promise<{ at: number; rssMiB: number }>;
  done: Promise<WorkerReport>;
}

/** Spawns bench/worker-process.ts and resolves once it is wired (Redis, SQS client, Salesforce client). */
async function spawnWorker(mode: "batched" | "naive", env: NodeJS.ProcessEnv): Promise<WorkerChild> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/worker-process.ts"], {
    cwd: repo,
    env: { ...process.env, ...env, BENCH_WORKER_MODE: mode },
    stdio: ["ignore", process.env.BENCH_WORKER_STDOUT ? "inherit" : "ignore", "inherit", "ipc"],
  });
  let onStarted: (started: { at: number; rssMiB: number }) => void = () => {};
  let onDone: (report: WorkerReport) => void = () => {};
  const started = new Promise<{ at: number; rssMiB: number }>((resolve) => (onStarted = resolve));
  const done = new Promise<WorkerReport>((resolve) => (onDone = resolve));
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`worker process exited early (${code})`)));
    child.on("message", (message: { type: string; at?: number; rssMiB?: number }) => {
      if (message.type === "ready") resolve();
      if (message.type === "started") onStarted({ at: message.at!, rssMiB: message.rssMiB! });
      if (message.type === "done") onDone(message as unknown as WorkerReport);
    });
  });
  return {
    child,
    start: () => {
      child.send({ type: "start" });
      return started;
    },
    done,
  };
}

/** One figure of a sorted list. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface RunResult {
  label: string;
  seconds: number;
  eventsPerSecond: number;
  apiCalls: number;
  tokenRequests: number;
  lagP50Ms: number;
  lagP99Ms: number;
  report: WorkerReport;
  stats: EmulatorStatsSnapshot;
}

/** One run on fresh servers: enqueue the backlog, start the worker, wait until all of it is in Salesforce. */
async function run(mode: "batched" | "naive", backlog: Backlog): Promise<RunResult> {
  const [sqsServer, redis, emulator] = await Promise.all([
    startSqsServer(),
    startRedisServer(),
    startEmulator(),
  ]);
  const sqs = sqsServer.client();
  try {
    const { queueUrl } = await sqsServer.createQueue(`bench-worker-${mode}`, { visibilityTimeout: 60 });
    const worker = await spawnWorker(mode, {
      ...sqsEnv(sqsServer.endpoint),
      NODE_ENV: "production",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      SQS_QUEUE_URL: queueUrl,
      REDIS_URL: redis.url,
      SALESFORCE_LOGIN_URL: emulator.url,
      SALESFORCE_AUTH_FLOW: "client_credentials",
      SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      WORKER_PORT: "0",
    });
    const enqueueStart = Date.now();
    const enqueuedAt = await enqueue(sqs, queueUrl, backlog.events);
    const depth = await queueDepth(sqs, queueUrl);
    console.log(
      `${mode}: ${backlog.events.length} events enqueued in ${((Date.now() - enqueueStart) / 1000).toFixed(1)} s (queue depth ${depth}); starting the worker`,
    );
    const started = await worker.start();
    const expectedRecords = [...backlog.expected.values()].reduce((n, ids) => n + ids.size, 0);
    const deadline = Date.now() + timeoutSeconds * 1000;
    let drainedAt: number | undefined;
    while (Date.now() < deadline) {
      if ((await queueDepth(sqs, queueUrl)) === 0) {
        const stats = await emulatorStats(emulator.url);
        if (stats.records.created >= expectedRecords) {
          drainedAt = Date.now();
          break;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    worker.child.send({ type: "stop" });
    const report = await worker.done;
    if (drainedAt === undefined) throw new Error(`${mode}: not drained within ${timeoutSeconds} s`);
    await checkRecords(emulator.url, backlog.expected);
    const stats = await emulatorStats(emulator.url);
    const lags = report.acks
      .map(([id, at]) => at - (enqueuedAt.get(id) ?? NaN))
      .filter((lag) => Number.isFinite(lag))
      .sort((a, b) => a - b);
    if (lags.length !== backlog.events.length)
      console.warn(`${mode}: ${lags.length} of ${backlog.events.length} events acknowledged`);
    const seconds = (drainedAt - started.at) / 1000;
    return {
      label: mode,
      seconds,
      eventsPerSecond: backlog.events.length / seconds,
      apiCalls: stats.apiCalls.total,
      tokenRequests: stats.tokenRequests.total,
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      report: { ...report, startRssMiB: started.rssMiB },
      stats,
    };
  } finally {
    sqs.destroy();
    await Promise.all([sqsServer.stop(), redis.stop(), emulator.stop()]);
  }
}

/** Every expected External ID is in the emulated org. */
async function checkRecords(url: string, expected: Map<DefaultObjectName, Set<string>>): Promise<void> {
  const mapping = defaultMapping();
  for (const [object, ids] of expected) {
    const name = mapping.objects[object].name;
    const field = orgExternalIdField(mapping, object);
    const records = (await (await fetch(`${url}/__emulator/records/${name}`)).json()) as Record<
      string,
      unknown
    >[];
    const present = new Set(records.map((record) => String(record[field])));
    const missing = [...ids].filter((id) => !present.has(id));
    if (missing.length > 0) throw new Error(`${name}: ${missing.length} of ${ids.size} records missing`);
  }
}

async function main() {
  console.log(`machine: ${describeMachine()}`);
  const backlog = buildBacklog();
  const counts = [...backlog.expected].map(([object, ids]) => `${ids.size} ${object}`).join(", ");
  console.log(
    `backlog: ${backlog.events.length} events (${TYPES.join(", ")}, in turn) over ${customerCount} customers -> ${counts}`,
  );
  console.log(
    "setup: fauxqs, redis-server, Salesforce emulator (`main.ts salesforce-emulator`) and the worker each in their own process, fresh for each run",
  );
  const batched = await run("batched", backlog);
  const naive = await run("naive", backlog);
  console.log();
  const row = (label: string, r: RunResult) => [
    label,
    r.seconds.toFixed(1),
    r.eventsPerSecond.toFixed(0),
    r.apiCalls,
    ((100 * r.apiCalls) / backlog.events.length).toFixed(2),
    r.tokenRequests,
    (r.lagP50Ms / 1000).toFixed(2),
    (r.lagP99Ms / 1000).toFixed(2),
    `${r.report.startRssMiB} / ${r.report.peakRssMiB}`,
  ];
  printTable(
    [
      `worker (${backlog.events.length} events backlog)`,
      "drain s",
      "events/s",
      "Salesforce API calls",
      "calls / 100 events",
      "token requests",
      "p50 lag s",
      "p99 lag s",
      "RSS MiB idle / peak",
    ],
    [row("batched (collections upsert per object)", batched), row("naive (one call per record)", naive)],
  );
  console.log();
  console.log(
    `batched vs naive: ${(batched.eventsPerSecond / naive.eventsPerSecond).toFixed(1)}x events/s, ` +
      `${(naive.apiCalls / Math.max(1, batched.apiCalls)).toFixed(1)}x fewer Salesforce API calls`,
  );
  for (const r of [batched, naive])
    console.log(
      `${r.label}: outcomes ${JSON.stringify(r.report.outcomes)}; API calls by operation ${JSON.stringify(r.stats.apiCalls.byOperation)}; ` +
        `records created ${r.stats.records.created}, updated ${r.stats.records.updated}, failed ${r.stats.records.failed}`,
    );
  console.log(
    "lag: event created (its send to SQS, ms) -> syncEvents answered it written (Salesforce acknowledged, Redis committed)",
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

// One worker benchmark run: fresh fauxqs, redis-server and Salesforce emulator processes, a worker
// process built by the composition root (bench/worker-process.ts), events sent to the queue before
// or while it runs, and what it took: drain time, API calls, lags.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { StripeEvent } from "../src/domain/stripe-event.js";
import {
  DEFAULT_EMULATOR_CREDENTIALS,
  type EmulatorStatsSnapshot,
} from "../src/emulator/salesforce/index.js";
import { freePort, startChild, type ChildServer } from "../test/support/child-server.js";
import { startRedisServer, type RedisServer } from "../test/support/redis-server.js";
import { startSqsServer, sqsEnv, type SqsServer } from "../test/support/sqs-server.js";
import type { WorkerReport } from "./worker-process.js";

const repo = fileURLToPath(new URL("..", import.meta.url));

/** The servers of one run, each in its own process. */
export interface Servers {
  sqsServer: SqsServer;
  redis: RedisServer;
  emulator: ChildServer & { url: string };
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  stop(): Promise<void>;
}

/** Starts fauxqs (a queue and its DLQ), redis-server and the emulator (`main.ts salesforce-emulator`). */
export async function startServers(name: string): Promise<Servers> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const [sqsServer, redis, emulator] = await Promise.all([
    startSqsServer(),
    startRedisServer(),
    startChild(process.execPath, ["--import", "tsx", "src/main.ts", "salesforce-emulator"], {
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
    }),
  ]);
  const sqs = sqsServer.client();
  const { queueUrl, dlqUrl } = await sqsServer.createQueue(`bench-${name}`, {
    visibilityTimeout: 60,
    deadLetter: { maxReceiveCount: 50 },
  });
  return {
    sqsServer,
    redis,
    emulator: { ...emulator, url },
    sqs,
    queueUrl,
    dlqUrl: dlqUrl!,
    async stop() {
      sqs.destroy();
      await Promise.all([sqsServer.stop(), redis.stop(), emulator.stop()]);
    },
  };
}

/** The emulator's counters. */
export async function emulatorStats(url: string): Promise<EmulatorStatsSnapshot> {
  return (await fetch(`${url}/__emulator/stats`)).json() as Promise<EmulatorStatsSnapshot>;
}

/** Arms an emulator fault over its control API. */
export async function addFault(url: string, fault: Record<string, unknown>): Promise<void> {
  const answer = await fetch(`${url}/__emulator/faults`, { method: "POST", body: JSON.stringify(fault) });
  if (!answer.ok) throw new Error(`fault refused: ${await answer.text()}`);
}

/** Visible plus in-flight messages. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Sends events as the webhook role does (SendMessageBatch of 10, 16 at once); each event's
 * `created` becomes its send second. Resolves with each event's send time, ms.
 */
export async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  events: StripeEvent[],
): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  let next = 0;
  const sender = async () => {
    while (next < events.length) {
      const batch = events.slice(next, next + 10);
      next += batch.length;
      const now = Date.now();
      const entries = batch.map((event, i) => {
        event.created = Math.floor(now / 1000);
        sentAt.set(event.id, now);
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
  await Promise.all(Array.from({ length: 16 }, sender));
  return sentAt;
}

/** A wired, idle worker process; `start()` starts consuming. */
export interface WorkerChild {
  child: ChildProcess;
  start(): Promise<{ at: number; rssMiB: number }>;
  stop(): Promise<WorkerReport>;
}

/** Spawns bench/worker-process.ts against `servers` with `env` on top of the production defaults. */
export async function spawnWorker(
  servers: Servers,
  mode: "batched" | "naive",
  env: NodeJS.ProcessEnv = {},
): Promise<WorkerChild> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/worker-process.ts"], {
    cwd: repo,
    env: {
      ...process.env,
      ...sqsEnv(servers.sqsServer.endpoint),
      NODE_ENV: "production",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "warn",
      SQS_QUEUE_URL: servers.queueUrl,
      SQS_DLQ_URL: servers.dlqUrl,
      REDIS_URL: servers.redis.url,
      SALESFORCE_LOGIN_URL: servers.emulator.url,
      SALESFORCE_AUTH_FLOW: "client_credentials",
      SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      WORKER_PORT: "0",
      ...env,
      BENCH_WORKER_MODE: mode,
    },
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
    stop: () => {
      child.send({ type: "stop" });
      return done;
    },
  };
}

/** Waits until the queue is empty and `isDone` holds (both checked every 50 ms); resolves with the time. */
export async function waitUntilDrained(
  servers: Servers,
  isDone: () => Promise<boolean>,
  timeoutSeconds: number,
): Promise<number> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if ((await queueDepth(servers.sqs, servers.queueUrl)) === 0 && (await isDone())) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not drained within ${timeoutSeconds} s`);
}

/** Send-to-acknowledgement lags of the events sent, ms, sorted. */
export function lagsOf(report: WorkerReport, sentAt: Map<string, number>): number[] {
  return report.acks
    .map(([id, at]) => at - (sentAt.get(id) ?? NaN))
    .filter((lag) => Number.isFinite(lag))
    .sort((a, b) => a - b);
}

/** One figure of a sorted list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

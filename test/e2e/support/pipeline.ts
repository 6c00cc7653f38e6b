import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import { loadConfig, type AppConfig } from "../../../src/config/config.js";
import { createSqsClient } from "../../../src/data-access/sqs/create-sqs-client.js";
import { connectRedis } from "../../../src/data-access/store/connect-redis.js";
import type { StripeEvent } from "../../../src/domain/stripe-event.js";
import { defaultMapping } from "../../../src/domain/sync/mapping.js";
import {
  DEFAULT_EMULATOR_CREDENTIALS,
  startSalesforceEmulator,
  type SalesforceEmulator,
} from "../../../src/emulator/salesforce/index.js";
import type { RetryPolicy } from "../../../src/entry-points/worker/backoff.js";
import type { LeaseOptions } from "../../../src/domain/sync/sync-store-port.js";
import type { PauseScope, ProbeSchedule } from "../../../src/entry-points/worker/pause-gate.js";
import type { Worker } from "../../../src/entry-points/worker/worker.js";
import type { Instrumentation } from "../../../src/roles/instrumentation.js";
import { buildWebhook } from "../../../src/roles/build-webhook.js";
import { buildWorker, type WorkerStack } from "../../../src/roles/build-worker.js";
import { startWebhook, type RunningWebhook } from "../../../src/roles/start-webhook.js";
import { SALESFORCE_OBJECTS } from "../../../src/salesforce-schema/objects.js";
import { createLogger, type Logger } from "../../../src/shared/logger.js";
import { createMetrics, type Metrics } from "../../../src/shared/metrics.js";
import { waitFor } from "../../support/child-server.js";
import { startRedisServer, type RedisServer } from "../../support/redis-server.js";
import { signPayload } from "../../support/signing.js";
import { queueDepth, startSqsServer, type SqsServer } from "../../support/sqs-server.js";

/** The webhook signing secret the e2e web app accepts. */
export const E2E_WEBHOOK_SECRET = "whsec_e2e_pipeline";

/** Paused workers probe every 200 ms, so a test sees them resume at once. */
export const QUICK_PROBES: Record<PauseScope, ProbeSchedule> = {
  outage: { firstMs: 200, maxMs: 200 },
  api_limit: { firstMs: 200, maxMs: 200 },
  org: { firstMs: 200, maxMs: 200 },
};

/** Quick retries of tens of ms, then one to two seconds on the queue, so retries land within a test. */
export const QUICK_RETRY: RetryPolicy = {
  quickAttempts: 4,
  quickBaseMs: 50,
  quickMaxMs: 400,
  baseSeconds: 1,
  maxSeconds: 2,
};

/** Silent unless E2E_LOG names a level (e.g. `E2E_LOG=debug`), for reading a failing run. */
export function e2eLogger(): Logger {
  const level = process.env.E2E_LOG;
  return createLogger(level ? { level, service: "e2e" } : { silent: true });
}

/** Worker settings for tests: one-second polls, a short visibility timeout, a quick drain. */
export function e2eWorkerConfig(overrides: Partial<AppConfig["worker"]> = {}): AppConfig["worker"] {
  return {
    port: 0,
    concurrency: 2,
    batchSize: 10,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 5,
    shutdownTimeoutSeconds: 5,
    maxRecordsPerCall: 200,
    maxGroupSize: 1000,
    maxFillMs: 1000,
    lanes: 2,
    groupDeadlineSeconds: 60,
    maxHoldSeconds: 600,
    coalesceMs: 10,
    idempotencyTtlSeconds: 86400,
    ...overrides,
  };
}

/** The external id field of each contract object. */
export function externalIdFieldOf(objectName: string): string {
  const object = SALESFORCE_OBJECTS.find((o) => o.name === objectName);
  if (!object) throw new Error(`no object ${objectName} in the contract`);
  return object.externalIdField;
}

/** The real servers shared by a suite: fauxqs and redis-server, each in its own process. */
export interface Infrastructure {
  sqsServer: SqsServer;
  redisServer: RedisServer;
  stop(): Promise<void>;
}

/** Starts fauxqs and redis-server; the AWS SDK's default chain gets dummy credentials. */
export async function startInfrastructure(): Promise<Infrastructure> {
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  const [sqsServer, redisServer] = await Promise.all([startSqsServer(), startRedisServer()]);
  return {
    sqsServer,
    redisServer,
    async stop() {
      await Promise.all([sqsServer.stop(), redisServer.stop()]);
    },
  };
}

/** One in-process worker stack: its own Redis connection, token cache, Salesforce client and metrics. */
export interface TestWorker {
  worker: Worker;
  stack: WorkerStack;
  metrics: Metrics;
  redis: Redis;
  /** Salesforce calls this worker made, by the client's own metric. */
  salesforceCalls(): Promise<number>;
}

/** Options of `startPipeline`. */
export interface PipelineOptions {
  /** Workers started with the pipeline (default 1; 0 to start them later or run one elsewhere). */
  workers?: number;
  /** Receives before SQS's redrive policy parks a message (default 10). */
  maxReceiveCount?: number;
  worker?: Partial<AppConfig["worker"]>;
  /** More environment for the configuration (e.g. STRIPE_API_KEY). */
  env?: NodeJS.ProcessEnv;
  /** Record leases of the workers (default the production ones). */
  recordLeases?: LeaseOptions;
  /** How often paused workers probe (default: every 200 ms, whatever the pause). */
  probeSchedules?: Partial<Record<PauseScope, ProbeSchedule>>;
  /** Tracing of the webhook and the workers (default none: tracing off). */
  instrumentation?: Instrumentation;
  /** The roles' logger (default e2eLogger()). */
  logger?: Logger;
}

/** The whole path, from a signed POST to records in the Salesforce emulator. */
export interface Pipeline {
  emulator: SalesforceEmulator;
  sqs: SQSClient;
  queueUrl: string;
  dlqUrl: string;
  /** Base URL of the webhook app, e.g. `http://127.0.0.1:41234`. */
  webUrl: string;
  workers: TestWorker[];
  /** Starts `count` more worker stacks at once. */
  startWorkers(count: number): Promise<TestWorker[]>;
  /** POSTs the event signed by the Stripe SDK to `/webhook/stripe`; throws unless answered 200. */
  sendEvent(event: StripeEvent | Record<string, unknown>): Promise<void>;
  /** Puts the event on the queue directly, as the webhook role would. */
  enqueue(event: StripeEvent): Promise<void>;
  /** Puts a body on the queue without attributes, as an EventBridge rule's SQS target does. */
  enqueueBody(body: string): Promise<void>;
  /** Waits until the record with this external id exists and satisfies `predicate`; returns it. */
  waitForRecord(
    objectName: string,
    externalId: string,
    predicate?: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** The record with this external id as the emulator stores it, if any. */
  record(objectName: string, externalId: string): Record<string, unknown> | undefined;
  /** Waits until the main queue holds nothing, visible or in flight. */
  waitUntilQueueEmpty(timeoutMs?: number): Promise<void>;
  /** Visible and in-flight message counts of the main queue. */
  queueDepth(): Promise<{ visible: number; inFlight: number }>;
  /** Every message on the dead-letter queue (received, so hidden from later calls for a minute). */
  dlqMessages(): Promise<Message[]>;
  stop(): Promise<void>;
}

let pipelineCounter = 0;

/** Sends the event as the webhook role does: the event as body, ids as String attributes. */
export async function enqueueEvent(sqs: SQSClient, queueUrl: string, event: StripeEvent): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(event),
      MessageAttributes: {
        event_id: { DataType: "String", StringValue: event.id },
        event_type: { DataType: "String", StringValue: event.type },
        correlation_id: { DataType: "String", StringValue: `e2e-${event.id}` },
      },
    }),
  );
}

/**
 * Starts a fresh pipeline on shared infrastructure: a new queue with its dead-letter queue, a new
 * Salesforce emulator, an empty Redis, the real webhook role, and `workers` real worker stacks.
 */
export async function startPipeline(infra: Infrastructure, options: PipelineOptions = {}): Promise<Pipeline> {
  pipelineCounter += 1;
  const logger = options.logger ?? e2eLogger();
  const { instrumentation } = options;
  const { queueUrl, dlqUrl } = await infra.sqsServer.createQueue(`e2e-${process.pid}-${pipelineCounter}`, {
    deadLetter: { maxReceiveCount: options.maxReceiveCount ?? 10 },
  });
  if (!dlqUrl) throw new Error("no dead-letter queue was created");
  const admin = new Redis(infra.redisServer.url);
  await admin.flushall();
  const emulator = await startSalesforceEmulator({ credentials: DEFAULT_EMULATOR_CREDENTIALS, logger });
  const sqs = createSqsClient({ region: "us-east-1", endpoint: infra.sqsServer.endpoint });

  // The roles' own composition root builds both sides, from configuration as in production.
  const config = loadConfig("all", {
    NODE_ENV: "test",
    PORT: "0",
    STRIPE_WEBHOOK_SECRET: E2E_WEBHOOK_SECRET,
    SQS_QUEUE_URL: queueUrl,
    SQS_DLQ_URL: dlqUrl,
    REDIS_URL: infra.redisServer.url,
    SALESFORCE_LOGIN_URL: emulator.url,
    SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
    SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
    ...options.env,
  });
  config.worker = e2eWorkerConfig(options.worker);
  const webStack = buildWebhook({
    config,
    sqs,
    metrics: createMetrics({ collectDefaults: false }),
    logger,
    instrumentation,
  });
  const web: RunningWebhook = await startWebhook(webStack, config, logger);
  const webUrl = `http://127.0.0.1:${web.port}`;
  const workers: TestWorker[] = [];

  const buildTestWorker = (): TestWorker => {
    const redis = connectRedis(infra.redisServer.url);
    const metrics = createMetrics({ collectDefaults: false });
    const stack = buildWorker({
      config,
      sqs,
      redis,
      mapping: defaultMapping(),
      metrics,
      logger,
      retry: QUICK_RETRY,
      ...(options.recordLeases ? { recordLeases: options.recordLeases } : {}),
      probeSchedules: options.probeSchedules ?? QUICK_PROBES,
      instrumentation,
    });
    return {
      worker: stack.worker,
      stack,
      metrics,
      redis,
      async salesforceCalls() {
        const metric = await metrics.salesforceCalls.get();
        return metric.values.reduce((sum, v) => sum + v.value, 0);
      },
    };
  };

  const startWorkers = async (count: number): Promise<TestWorker[]> => {
    const started = Array.from({ length: count }, buildTestWorker);
    workers.push(...started);
    await Promise.all(started.map((w) => w.worker.start()));
    return started;
  };
  await startWorkers(options.workers ?? 1);

  const record = (objectName: string, externalId: string) => {
    const field = externalIdFieldOf(objectName);
    return emulator.records(objectName).find((r) => r[field] === externalId);
  };

  let stopped: Promise<void> | undefined;
  return {
    emulator,
    sqs,
    queueUrl,
    dlqUrl,
    webUrl,
    workers,
    startWorkers,
    async sendEvent(event) {
      const payload = JSON.stringify(event);
      const response = await fetch(`${webUrl}/webhook/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signPayload(payload, E2E_WEBHOOK_SECRET),
        },
        body: payload,
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${text}`);
    },
    enqueue: (event) => enqueueEvent(sqs, queueUrl, event),
    async enqueueBody(body) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    },
    record,
    async waitForRecord(objectName, externalId, predicate = () => true, timeoutMs = 20000) {
      let found: Record<string, unknown> | undefined;
      try {
        await waitFor(
          async () => {
            found = record(objectName, externalId);
            return found !== undefined && predicate(found);
          },
          timeoutMs,
          `${objectName} ${externalId}`,
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}; last seen: ${found === undefined ? "no record" : JSON.stringify(found)}`,
          { cause: error },
        );
      }
      return found!;
    },
    queueDepth: () => queueDepth(sqs, queueUrl),
    async waitUntilQueueEmpty(timeoutMs = 20000) {
      await waitFor(
        async () => {
          const depth = await queueDepth(sqs, queueUrl);
          return depth.visible === 0 && depth.inFlight === 0;
        },
        timeoutMs,
        "the main queue to empty",
      );
    },
    async dlqMessages() {
      const messages: Message[] = [];
      for (;;) {
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: dlqUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 60,
            MessageAttributeNames: ["All"],
          }),
        );
        if (!Messages || Messages.length === 0) return messages;
        messages.push(...Messages);
      }
    },
    stop() {
      stopped ??= (async () => {
        await Promise.all(workers.map((w) => w.worker.stop()));
        await web.stop();
        for (const w of workers) w.redis.disconnect();
        admin.disconnect();
        sqs.destroy();
        await emulator.stop();
      })();
      return stopped;
    },
  };
}

/** A suite's infrastructure, and the pipeline of the test running (see `pipelineSuite`). */
export interface PipelineSuite {
  /** Started before the suite's first test, stopped after its last. */
  readonly infra: Infrastructure;
  /** Starts a pipeline on the suite's infrastructure; it is stopped after the test. */
  start(options?: PipelineOptions): Promise<Pipeline>;
}

/**
 * Registers the mocha hooks of an end-to-end suite: one infrastructure (SQS server, Redis) for the
 * whole suite, and the pipeline each test starts stopped after that test.
 */
export function pipelineSuite(): PipelineSuite {
  let infra: Infrastructure | undefined;
  let current: Pipeline | undefined;
  before(async () => {
    infra = await startInfrastructure();
  });
  after(async () => {
    await infra?.stop();
  });
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return {
    get infra() {
      if (!infra) throw new Error("the suite's infrastructure starts in its before hook");
      return infra;
    },
    async start(options) {
      current = await startPipeline(this.infra, options);
      return current;
    },
  };
}

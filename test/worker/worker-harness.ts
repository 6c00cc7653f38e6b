import { Writable } from "node:stream";
import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import winston from "winston";
import type { AppConfig } from "../../src/config/config.js";
import type { RetryPolicy } from "../../src/entry-points/worker/backoff.js";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import type { EventOutcome, EventSyncer, SyncItem } from "../../src/domain/sync/sync-events.js";
import type { Logger } from "../../src/shared/logger.js";
import { createMetrics, type Metrics } from "../../src/shared/metrics.js";
import { waitFor } from "../support/child-server.js";
import { queueDepth } from "../support/sqs-server.js";

export { queueDepth };

/** Worker settings small enough for tests: short polls, a quick drain. */
export function testWorkerConfig(overrides: Partial<AppConfig["worker"]> = {}): AppConfig["worker"] {
  return {
    port: 0,
    concurrency: 2,
    batchSize: 10,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 30,
    shutdownTimeoutSeconds: 5,
    maxRecordsPerCall: 200,
    maxGroupSize: 1000,
    maxFillMs: 1000,
    lanes: 2,
    groupDeadlineSeconds: 120,
    maxHoldSeconds: 600,
    coalesceMs: 20,
    idempotencyTtlSeconds: 86400,
    ...overrides,
  };
}

/** Retries within tens of ms in the worker, then one second on the queue, so retries land within a test. */
export const quickRetry: RetryPolicy = {
  quickAttempts: 3,
  quickBaseMs: 20,
  quickMaxMs: 100,
  baseSeconds: 1,
  maxSeconds: 1,
};

/** A real-shaped `customer.updated` event with the given id. */
export function customerUpdated(id: string, created = 1_760_000_000): StripeEvent {
  return {
    id,
    object: "event",
    api_version: "2025-09-30.clover",
    created,
    livemode: false,
    type: "customer.updated",
    data: {
      object: {
        id: `cus_${id.slice(4)}`,
        object: "customer",
        email: `${id}@example.com`,
        name: "Jenny Rosen",
        created: created - 3600,
        livemode: false,
        metadata: {},
      },
      previous_attributes: { email: "old@example.com" },
    },
  };
}

/** Sends a message the way the webhook role does: the event as body, ids as String attributes. */
export async function sendEvent(
  sqs: SQSClient,
  queueUrl: string,
  event: StripeEvent,
  correlationId = `corr-${event.id}`,
) {
  await sendRaw(sqs, queueUrl, JSON.stringify(event), {
    event_id: event.id,
    event_type: event.type,
    correlation_id: correlationId,
  });
}

/** Sends any body with String attributes. */
export async function sendRaw(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  attributes: Record<string, string> = {},
) {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
      ),
    }),
  );
}

/** Waits until a queue holds no message at all, visible or not. */
export async function waitUntilEmpty(sqs: SQSClient, queueUrl: string, timeoutMs = 15000): Promise<void> {
  await waitFor(
    async () => {
      const depth = await queueDepth(sqs, queueUrl);
      return depth.visible === 0 && depth.inFlight === 0;
    },
    timeoutMs,
    `queue ${queueUrl} to empty`,
  );
}

/** Receives (as a second consumer would) until `count` messages arrived or the deadline passed. */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs = 10000,
): Promise<Message[]> {
  const received: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["ApproximateReceiveCount"],
      }),
    );
    received.push(...(Messages ?? []));
  }
  return received;
}

/** One syncEvents call as the fake saw it. */
export interface RecordedCall {
  eventIds: string[];
  /** Which of them the queue delivered before. */
  redeliveredIds: string[];
}

/**
 * A scripted stand-in for the sync domain: `script(event, attempt)` answers each event (attempt
 * counts from 1 per event id); it records every call.
 */
export class ScriptedSyncer implements EventSyncer {
  readonly calls: RecordedCall[] = [];
  readonly attempts = new Map<string, number>();

  constructor(
    private readonly script: (
      event: StripeEvent,
      attempt: number,
    ) => EventOutcome | Promise<EventOutcome> = () => ({
      status: "applied",
    }),
    private readonly beforeCall: (events: StripeEvent[], call: number) => Promise<void> | void = () => {},
  ) {}

  async syncEvents(items: readonly SyncItem[]): Promise<EventOutcome[]> {
    const events = items.map((item) => item.event);
    this.calls.push({
      eventIds: events.map((e) => e.id),
      redeliveredIds: items.filter((item) => item.isRedelivery).map((item) => item.event.id),
    });
    await this.beforeCall(events, this.calls.length);
    return Promise.all(
      events.map((event) => {
        const attempt = (this.attempts.get(event.id) ?? 0) + 1;
        this.attempts.set(event.id, attempt);
        return this.script(event, attempt);
      }),
    );
  }

  /** How many times the event was handed over. */
  attemptsOf(id: string): number {
    return this.attempts.get(id) ?? 0;
  }
}

/** A logger that keeps its JSON lines in memory, to assert what was logged. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level: "debug",
    format: winston.format.combine(winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

/** Fresh metrics without the Node process collectors. */
export function testMetrics(): Metrics {
  return createMetrics({ collectDefaults: false });
}

let queueCounter = 0;
/** A queue name unique within the test run. */
export function uniqueQueueName(prefix: string): string {
  queueCounter += 1;
  return `${prefix}-${process.pid}-${queueCounter}`;
}

/** A promise with its resolve function, to hold a fake syncer until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

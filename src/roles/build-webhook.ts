import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AppConfig } from "../config/config.js";
import { queueReadinessCheck } from "../data-access/sqs/queue-readiness-check.js";
import { queueSizeLimit } from "../data-access/sqs/queue-size-limit.js";
import { signedBatchSender } from "../data-access/sqs/signed-batch-sender.js";
import { SqsEnqueueBatcher } from "../data-access/sqs/sqs-enqueue-batcher.js";
import { createWebhookReceiver } from "../domain/ingest/receive-webhook.js";
import { createWebApp, type WebApp } from "../entry-points/webhook/web-app.js";
import { systemClock, type Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";
import type { ReadinessCheck } from "../shared/readiness-check.js";
import type { Instrumentation } from "./instrumentation.js";

/** What `buildWebhook` needs: a resolved configuration (queue and secrets set) and the SQS client. */
export interface BuildWebhookOptions {
  config: AppConfig;
  sqs: SQSClient;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /** Readiness checks beyond the queue (role `all` adds the worker's Redis). */
  extraChecks?: readonly ReadinessCheck[];
  /** Spans per webhook and enqueue (only when tracing is on; see start-telemetry.ts). */
  instrumentation?: Instrumentation | undefined;
}

/** The webhook role's app and its enqueue batcher, not listening yet. */
export interface WebhookStack {
  app: WebApp;
  queue: SqsEnqueueBatcher;
  /** Turns readiness to 503 (draining) or back. */
  setAccepting(isAccepting: boolean): void;
}

/**
 * The queue events go to, as the webhook puts them there: coalesced SendMessageBatch calls signed
 * with the SQS client's credentials, the queue's MaximumMessageSize read once. `replay` uses it too.
 */
export function buildEventQueue(options: {
  sqs: SQSClient;
  queueUrl: string;
  metrics: Metrics;
  windowMs: number;
}): SqsEnqueueBatcher {
  const { sqs, queueUrl, metrics, windowMs } = options;
  return new SqsEnqueueBatcher({
    send: signedBatchSender({ sqs, queueUrl }),
    queueUrl,
    maxMessageBytes: queueSizeLimit({ sqs, queueUrl }),
    metrics,
    windowMs,
  });
}

/**
 * Builds the webhook role: signature check with the configured secrets, coalesced SendMessageBatch
 * enqueue, and the Koa app with health and metrics. Starts nothing; the roles and the tests both
 * build the webhook here.
 */
export function buildWebhook(options: BuildWebhookOptions): WebhookStack {
  const { config, sqs, metrics, logger } = options;
  const queueUrl = config.sqs.queueUrl;
  if (!queueUrl)
    throw new Error("buildWebhook: config.sqs.queueUrl is not set (resolve local fallbacks first)");
  const queue = buildEventQueue({ sqs, queueUrl, metrics, windowMs: config.web.enqueueBatchWindowMs });
  const receive = createWebhookReceiver({
    queue,
    clock: options.clock ?? systemClock,
    secrets: config.web.webhookSecrets,
    toleranceSeconds: config.web.toleranceSeconds,
    canSlimEvents: config.stripe.apiKey !== undefined,
    tracer: options.instrumentation?.enqueues(queueUrl),
  });
  let isAccepting = true;
  const app = createWebApp({
    receive,
    metrics,
    logger,
    checks: [queueReadinessCheck(sqs, queueUrl), ...(options.extraChecks ?? [])],
    bodyLimitBytes: config.web.bodyLimitBytes,
    isAcceptingWork: () => isAccepting,
    traceWebhook: options.instrumentation?.webhookRequests,
  });
  return { app, queue, setAccepting: (value) => void (isAccepting = value) };
}

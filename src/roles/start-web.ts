import type { Server } from "node:http";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { AppConfig } from "../config/config.js";
import { createWebhookReceiver } from "../domain/ingest/receive-webhook.js";
import { SqsEnqueueBatcher } from "../data-access/sqs/sqs-enqueue-batcher.js";
import { queueReadinessCheck } from "../data-access/sqs/queue-readiness-check.js";
import type { ReadinessCheck } from "../entry-points/health/health-checks.js";
import { createWebApp } from "../entry-points/webhook/web-app.js";
import { systemClock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Metrics } from "../shared/metrics.js";

/** A started webhook role. */
export interface RunningWeb {
  port: number;
  /** Stops taking connections, answers what is in flight, flushes the enqueue batcher. */
  stop(): Promise<void>;
}

/** Starts the webhook role: the Koa app on `config.web.port`, enqueueing to `queueUrl`. */
export async function startWeb(deps: {
  config: AppConfig;
  sqs: SQSClient;
  queueUrl: string;
  metrics: Metrics;
  logger: Logger;
  extraChecks?: ReadinessCheck[];
}): Promise<RunningWeb> {
  const { config, sqs, queueUrl, metrics, logger } = deps;
  const queue = new SqsEnqueueBatcher({ sqs, queueUrl, metrics, windowMs: config.web.enqueueBatchWindowMs });
  const receive = createWebhookReceiver({
    queue,
    clock: systemClock,
    secrets: config.web.webhookSecrets,
    toleranceSeconds: config.web.toleranceSeconds,
  });
  let accepting = true;
  const app = createWebApp({
    receive,
    metrics,
    logger,
    checks: [queueReadinessCheck(sqs, queueUrl), ...(deps.extraChecks ?? [])],
    bodyLimitBytes: config.web.bodyLimitBytes,
    isAcceptingWork: () => accepting,
  });
  const server: Server = app.listen(config.web.port);
  // Stripe holds a connection open between deliveries; keep idle sockets longer than a typical LB.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.web.port;
  logger.info("webhook server listening", { port, queueUrl });
  return {
    port,
    async stop() {
      accepting = false;
      // Readiness now answers 503; keep serving while the load balancer takes this pod out, so
      // requests already routed here are answered rather than refused.
      if (config.web.drainDelaySeconds > 0) {
        logger.info("draining: readiness is 503, still serving webhooks", {
          seconds: config.web.drainDelaySeconds,
        });
        await new Promise((resolve) => setTimeout(resolve, config.web.drainDelaySeconds * 1000));
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await queue.drain();
    },
  };
}

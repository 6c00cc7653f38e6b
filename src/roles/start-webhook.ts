import type { AppConfig } from "../config/config.js";
import { createWebServer } from "../entry-points/webhook/web-server.js";
import { sleep, systemClock } from "../shared/clock.js";
import { ConfigError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { WebhookStack } from "./build-webhook.js";

/** A listening webhook role. */
export interface RunningWebhook {
  port: number;
  /** Stops taking connections, answers what is in flight, flushes the enqueue batcher. */
  stop(): Promise<void>;
}

/** Listens on `config.web.port` with a built webhook stack. */
export async function startWebhook(
  stack: WebhookStack,
  config: AppConfig,
  logger: Logger,
): Promise<RunningWebhook> {
  const server = createWebServer(stack.app, { logger, bodyLimitBytes: config.web.bodyLimitBytes });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new ConfigError(`PORT: port ${config.web.port} is already in use; set PORT to a free port`)
          : error,
      ),
    );
    server.listen(config.web.port);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.web.port;
  logger.info("webhook server listening", { port, queueUrl: config.sqs.queueUrl });
  return {
    port,
    async stop() {
      stack.setAccepting(false);
      // Readiness now answers 503; keep serving while the load balancer takes this pod out, so
      // requests already routed here are answered rather than refused.
      if (config.web.drainDelaySeconds > 0) {
        logger.info("draining: readiness is 503, still serving webhooks", {
          seconds: config.web.drainDelaySeconds,
        });
        await sleep(systemClock, config.web.drainDelaySeconds * 1000);
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await stack.queue.drain();
    },
  };
}

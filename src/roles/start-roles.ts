import { Redis } from "ioredis";
import type { AppConfig, Role } from "../config/config.js";
import { createSqsClient } from "../data-access/sqs/create-sqs-client.js";
import type { ReadinessCheck } from "../entry-points/health/health-checks.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { createMetrics } from "../shared/metrics.js";
import { LOCAL_WEBHOOK_SECRET } from "./local-defaults.js";
import { startWeb } from "./start-web.js";
import { startWorkerRole } from "./start-worker-role.js";

/** Something to stop on SIGTERM, in order. */
type Stopper = () => Promise<void>;

function redisReadinessCheck(redis: Redis): ReadinessCheck {
  return {
    name: "redis",
    async check() {
      await redis.ping();
    },
  };
}

/** Connects to Redis when configured; commands fail fast instead of queueing while it is down. */
function connectRedis(config: AppConfig, logger: Logger): Redis | undefined {
  if (!config.redis.url) return undefined;
  const redis = new Redis(config.redis.url, {
    ...(config.redis.password ? { password: config.redis.password } : {}),
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5000,
  });
  redis.on("error", (error: Error) => logger.warn("redis connection error", { error: error.message }));
  return redis;
}

/**
 * Starts `role` with its dependencies: the real ones where configured, and in local mode the
 * embedded queue, the in-memory store and the Salesforce emulator for whatever is not.
 */
export async function startRoles(role: Role, config: AppConfig): Promise<void> {
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const stoppers: Stopper[] = [];
  const notes: string[] = [];

  let queueUrl = config.sqs.queueUrl;
  let dlqUrl = config.sqs.dlqUrl;
  let endpoint: string | undefined;
  if (!queueUrl) {
    const { startEmbeddedSqs } = await import("../local/embedded-sqs.js");
    const embedded = await startEmbeddedSqs();
    queueUrl = embedded.queueUrl;
    dlqUrl ??= embedded.dlqUrl;
    endpoint = embedded.endpoint;
    // The AWS SDK needs credentials even for a local server.
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    stoppers.push(() => embedded.stop());
    notes.push(
      `embedded SQS-compatible queue on ${embedded.endpoint}: stripe-events, dead-letter queue stripe-events-dlq`,
    );
  }
  const sqs = createSqsClient({
    region: config.sqs.region ?? "us-east-1",
    ...(endpoint ? { endpoint } : {}),
  });

  // Only the worker uses Redis: the webhook role neither connects to it nor waits for it (in role
  // `all` the process does, so both servers report it).
  const redis = role === "web" ? undefined : connectRedis(config, logger);
  const redisChecks = redis ? [redisReadinessCheck(redis)] : [];

  const stopFirst: Stopper[] = [];
  if (role === "web" || role === "all") {
    const webConfig =
      config.web.webhookSecrets.length > 0
        ? config
        : { ...config, web: { ...config.web, webhookSecrets: [LOCAL_WEBHOOK_SECRET] } };
    if (config.web.webhookSecrets.length === 0)
      notes.push(`local webhook signing secret: ${LOCAL_WEBHOOK_SECRET}`);
    const web = await startWeb({
      config: webConfig,
      sqs,
      queueUrl,
      metrics,
      logger,
      extraChecks: redisChecks,
    });
    stopFirst.push(() => web.stop());
    notes.push(`send Stripe webhooks to: http://localhost:${web.port}/webhook/stripe`);
  }
  if (role === "worker" || role === "all") {
    const worker = await startWorkerRole({
      config,
      sqs,
      queueUrl,
      dlqUrl,
      redis,
      metrics,
      logger,
      extraChecks: redisChecks,
    });
    stopFirst.push(() => worker.stop());
    notes.push(...worker.notes);
  }

  if (config.isLocal && notes.length > 0) {
    process.stdout.write(
      `\nstripe-salesforce-sync is running (${role}, local mode)\n${notes.map((n) => `  - ${n}`).join("\n")}\n\n`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    // The web role needs its drain delay plus time to answer what is in flight; the worker its drain bound.
    const webBoundSeconds = config.web.drainDelaySeconds + 10;
    const workerBoundSeconds = config.worker.shutdownTimeoutSeconds + 5;
    const boundSeconds =
      role === "web"
        ? webBoundSeconds
        : role === "worker"
          ? workerBoundSeconds
          : Math.max(webBoundSeconds, workerBoundSeconds);
    const hardStop = setTimeout(() => {
      logger.error("shutdown took longer than its bound; exiting", { boundSeconds });
      process.exit(1);
    }, boundSeconds * 1000);
    hardStop.unref();
    try {
      await Promise.all(stopFirst.map((stop) => stop()));
      for (const stop of stoppers) await stop();
      sqs.destroy();
      redis?.disconnect();
      logger.info("stopped");
      process.exit(0);
    } catch (error) {
      logger.error("shutdown failed", { error: (error as Error).message });
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

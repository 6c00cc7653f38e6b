import type { AppConfig, Role } from "../config/config.js";
import { createSqsClient } from "../data-access/sqs/create-sqs-client.js";
import { HANDLED_EVENT_TYPES } from "../domain/sync/event-handlers.js";
import { loadMapping } from "../domain/sync/mapping-file.js";
import { startWorkerServer } from "../entry-points/worker/worker-server.js";
import { createMetrics } from "../shared/metrics.js";
import { buildWebhook } from "./build-webhook.js";
import { resolveLocalFallbacks } from "./local-fallbacks.js";
import { startTelemetry } from "./start-telemetry.js";
import { startWebhook } from "./start-webhook.js";

/** Something to stop on SIGTERM. */
type Stopper = () => Promise<void>;

/**
 * Starts `role`: validates the mapping, resolves local fallbacks, builds the roles from the
 * composition root (build-webhook.ts, build-worker.ts) and serves them until SIGTERM. Tracing is on
 * when the OTEL_* variables of `env` ask for it (start-telemetry.ts).
 */
export async function startRoles(
  role: Role,
  configured: AppConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const telemetry = await startTelemetry(configured, env);
  const { logger, instrumentation } = telemetry;
  const metrics = createMetrics();
  // Before anything listens: a bad mapping file stops start-up naming the entry.
  const mapping = loadMapping(configured.mappingFile);
  const local = await resolveLocalFallbacks(role, configured, mapping, logger);
  const { config } = local;
  const sqs = createSqsClient({
    region: config.sqs.region ?? "us-east-1",
    ...(local.sqsEndpoint ? { endpoint: local.sqsEndpoint } : {}),
  });
  // Only the worker uses Redis: the webhook role neither connects to it nor waits for it (in role
  // `all` the process does, so both servers report it).
  // ioredis is loaded only by the roles that use it (the webhook role stays lighter).
  const redis =
    role === "web" || !config.redis.url
      ? undefined
      : (await import("../data-access/store/connect-redis.js")).connectRedis(config.redis.url, {
          password: config.redis.password,
          logger,
        });
  const redisChecks = redis ? [{ name: "redis", check: async () => void (await redis.ping()) }] : [];
  const notes = [...local.notes];
  const stopFirst: Stopper[] = [];

  if (role === "web" || role === "all") {
    const stack = buildWebhook({ config, sqs, metrics, logger, extraChecks: redisChecks, instrumentation });
    const web = await startWebhook(stack, config, logger);
    stopFirst.push(() => web.stop());
    notes.push(`send Stripe webhooks to: http://localhost:${web.port}/webhook/stripe`);
    notes.push(
      `Stripe event types it handles (select these for the endpoint): ${[...HANDLED_EVENT_TYPES].join(", ")}`,
    );
  }
  if (role === "worker" || role === "all") {
    // Imported only here: the worker's clients (jsforce, ioredis) cost the web role ~50 MB of RSS.
    const { buildWorker } = await import("./build-worker.js");
    const stack = buildWorker({ config, sqs, redis, mapping, metrics, logger, instrumentation });
    const server = await startWorkerServer({
      port: config.worker.port,
      checks: stack.checks,
      metrics,
      logger,
      workState: () => stack.worker.state(),
    });
    await stack.worker.start();
    stopFirst.push(async () => {
      await stack.worker.stop();
      await server.stop();
    });
    notes.push(`worker health and metrics: http://localhost:${server.port}/health/ready, /metrics`);
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
      await local.stop();
      sqs.destroy();
      redis?.disconnect();
      await telemetry.shutdown();
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

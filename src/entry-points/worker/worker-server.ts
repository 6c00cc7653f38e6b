import type { Server } from "node:http";
import Koa from "koa";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import type { ReadinessCheck } from "../health/health-checks.js";
import { createHealthRouter, type WorkState } from "../health/health-router.js";

/** Collaborators of the worker's own HTTP server (health and metrics only; it takes no work over HTTP). */
export interface WorkerServerOptions {
  /** Dependencies `/health/ready` waits for: the queue (`queueReadinessCheck`), Redis, ... */
  checks: readonly ReadinessCheck[];
  /** Whose registry `/metrics` serves. */
  metrics: Pick<Metrics, "registry">;
  /** What the worker is doing; anything but `ready` makes readiness 503 with its reason (`worker.state`). */
  workState?: () => WorkState;
}

/** The worker's Koa app: `/health`, `/health/live`, `/health/ready`, `/metrics`. */
export function createWorkerApp(options: WorkerServerOptions): Koa {
  const app = new Koa();
  const health = createHealthRouter({
    role: "worker",
    checks: options.checks,
    registry: options.metrics.registry,
    ...(options.workState ? { workState: options.workState } : {}),
  });
  app.use(health.routes());
  app.use(health.allowedMethods());
  return app;
}

/** A listening worker server. */
export interface RunningWorkerServer {
  /** The bound port (useful with port 0). */
  port: number;
  /** Stops listening and closes idle connections. */
  stop(): Promise<void>;
}

/** Starts the worker's health and metrics server on `port` (0 picks a free one; `host` defaults to all). */
export async function startWorkerServer(
  options: WorkerServerOptions & { port: number; host?: string; logger: Logger },
): Promise<RunningWorkerServer> {
  const server: Server = createWorkerApp(options).listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  options.logger.info("worker health server listening", { port });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

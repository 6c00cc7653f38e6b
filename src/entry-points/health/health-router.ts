import Router from "@koa/router";
import type { Registry } from "prom-client";
import { runReadinessChecks, type ReadinessCheck } from "./health-checks.js";

/** Options for the health and metrics routes served by both roles. */
export interface HealthRouterOptions {
  /** Role name shown in the answers (`web`, `worker`). */
  role: string;
  /** Dependencies that must answer for `/health/ready` to be 200. */
  checks: readonly ReadinessCheck[];
  registry: Registry;
  /** False while draining after SIGTERM: readiness then answers 503. */
  isAcceptingWork?: () => boolean;
}

/**
 * `/health` and `/health/live` (the process answers), `/health/ready` (each dependency, 503 when
 * one is down) and `/metrics` (Prometheus text format).
 */
export function createHealthRouter(options: HealthRouterOptions): Router {
  const router = new Router();
  const startedAt = Date.now();
  const live = (ctx: { body: unknown }) => {
    ctx.body = {
      status: "ok",
      role: options.role,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    };
  };
  router.get("/health", live);
  router.get("/health/live", live);
  router.get("/health/ready", async (ctx) => {
    const { ready, dependencies } = await runReadinessChecks(options.checks);
    const accepting = options.isAcceptingWork?.() ?? true;
    ctx.status = ready && accepting ? 200 : 503;
    ctx.body = {
      status: !accepting ? "draining" : ready ? "ready" : "not_ready",
      role: options.role,
      dependencies,
    };
  });
  router.get("/metrics", async (ctx) => {
    ctx.type = options.registry.contentType;
    ctx.body = await options.registry.metrics();
  });
  return router;
}

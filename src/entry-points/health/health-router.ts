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
  /**
   * Whether the role takes work now; anything but `ready` makes readiness answer 503 with the
   * status and its reason (default: always ready).
   */
  workState?: () => WorkState;
}

/** What a role is doing, as readiness reports it. */
export interface WorkState {
  /** `ready`, or why not: `starting`, `paused`, `draining`. */
  status: "ready" | "starting" | "paused" | "draining";
  /** A short machine-readable reason, e.g. `salesforce_unavailable` or `mapping_invalid`. */
  reason?: string;
  /** What an operator should know, e.g. the field the org lacks. */
  detail?: string;
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
    const work = options.workState?.() ?? { status: "ready" };
    ctx.status = ready && work.status === "ready" ? 200 : 503;
    ctx.body = {
      status: work.status !== "ready" ? work.status : ready ? "ready" : "not_ready",
      ...(work.reason === undefined ? {} : { reason: work.reason }),
      ...(work.detail === undefined ? {} : { detail: work.detail }),
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

import Koa from "koa";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import type { WebhookReceiver } from "../../domain/ingest/receive-webhook.js";
import type { ReadinessCheck } from "../health/health-checks.js";
import { createHealthRouter } from "../health/health-router.js";
import { correlationAndAccessLog, type RequestState } from "./correlation-id.js";
import { answerUnsupportedMethods } from "./unsupported-methods.js";
import { createWebhookRouter } from "./webhook-router.js";

/** Collaborators of the webhook role's HTTP app. */
export interface WebAppDeps {
  receive: WebhookReceiver;
  metrics: Metrics;
  logger: Logger;
  checks: readonly ReadinessCheck[];
  bodyLimitBytes: number;
  /** False while shutting down: readiness answers 503 so the Service stops sending traffic. */
  isAcceptingWork?: () => boolean;
}

/** The webhook role's Koa app: `/webhook/stripe`, health and metrics. */
export function createWebApp(deps: WebAppDeps): Koa<RequestState> {
  const app = new Koa<RequestState>();
  app.proxy = true;
  const webhook = createWebhookRouter({
    receive: deps.receive,
    metrics: deps.metrics,
    bodyLimitBytes: deps.bodyLimitBytes,
  });
  const health = createHealthRouter({
    role: "web",
    checks: deps.checks,
    registry: deps.metrics.registry,
    ...(deps.isAcceptingWork ? { isAcceptingWork: deps.isAcceptingWork } : {}),
  });
  app.use(correlationAndAccessLog(deps.logger));
  app.use(answerUnsupportedMethods());
  app.use(webhook.routes());
  app.use(health.routes());
  return app;
}

import type { IncomingMessage, ServerResponse } from "node:http";
import Koa from "koa";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import type { WebhookReceiver } from "../../domain/ingest/receive-webhook.js";
import type { ReadinessCheck } from "../health/health-checks.js";
import { createHealthRouter } from "../health/health-router.js";
import { correlationAndAccessLog, type RequestState } from "./correlation-id.js";
import { createStripeWebhookHandler } from "./stripe-webhook-handler.js";
import { answerUnsupportedMethods } from "./unsupported-methods.js";
import type { WebhookRequestTracer } from "./webhook-request-tracer.js";

/** Collaborators of the webhook role's HTTP app. */
export interface WebAppDeps {
  receive: WebhookReceiver;
  metrics: Metrics;
  logger: Logger;
  checks: readonly ReadinessCheck[];
  bodyLimitBytes: number;
  /** False while shutting down: readiness answers 503 so the Service stops sending traffic. */
  isAcceptingWork?: () => boolean;
  /** Traces each webhook (absent: tracing is off). */
  traceWebhook?: WebhookRequestTracer | undefined;
}

/** The webhook role's HTTP handlers: `/webhook/stripe` on node:http, health and metrics on Koa. */
export interface WebApp {
  /** Every request to `/webhook/stripe` (see stripe-webhook-handler.ts). */
  handleWebhook(request: IncomingMessage, response: ServerResponse): void;
  /** Everything else: health, readiness, metrics; 404 and 405 answers. */
  koa: Koa<RequestState>;
}

/** Builds the webhook role's handlers (web-server.ts routes between them). */
export function createWebApp(deps: WebAppDeps): WebApp {
  const app = new Koa<RequestState>();
  app.proxy = true;
  const handleWebhook = createStripeWebhookHandler({
    receive: deps.receive,
    metrics: deps.metrics,
    logger: deps.logger,
    bodyLimitBytes: deps.bodyLimitBytes,
    trace: deps.traceWebhook,
  });
  const health = createHealthRouter({
    role: "web",
    checks: deps.checks,
    registry: deps.metrics.registry,
    workState: () => ({ status: (deps.isAcceptingWork?.() ?? true) ? "ready" : "draining" }),
  });
  app.use(correlationAndAccessLog(deps.logger));
  app.use(answerUnsupportedMethods());
  app.use(health.routes());
  return { handleWebhook, koa: app };
}

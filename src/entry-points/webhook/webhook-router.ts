import Router from "@koa/router";
import type { WebhookReceiver } from "../../domain/ingest/receive-webhook.js";
import { StripeSignatureError } from "../../domain/ingest/verify-stripe-signature.js";
import { BadRequestError, RetryableSyncError } from "../../shared/errors.js";
import type { Metrics } from "../../shared/metrics.js";
import type { RequestState } from "./correlation-id.js";
import { BodyTooLargeError, readRawBody } from "./read-raw-body.js";

/** Options of the Stripe webhook route. */
export interface WebhookRouterOptions {
  receive: WebhookReceiver;
  metrics: Metrics;
  bodyLimitBytes: number;
}

/**
 * `POST /webhook/stripe`: raw body in, typed errors out as status codes. 200 only once the event is
 * in the queue; 400 with a JSON reason for anything Stripe should not resend as is; 413 above the
 * body limit; 503 when the queue did not take it, so Stripe retries.
 */
export function createWebhookRouter(options: WebhookRouterOptions): Router<RequestState> {
  const router = new Router<RequestState>();
  router.post("/webhook/stripe", async (ctx) => {
    const started = performance.now();
    let outcome = "accepted";
    let eventType = "unknown";
    try {
      const rawBody = await readRawBody(ctx.req, options.bodyLimitBytes);
      const result = await options.receive(
        rawBody,
        ctx.get("stripe-signature") || undefined,
        ctx.state.correlationId,
      );
      outcome = result.outcome;
      eventType = result.eventType;
      ctx.state.logFields.eventId = result.eventId;
      ctx.state.logFields.eventType = result.eventType;
      if (result.bodyFormat) ctx.state.logFields.bodyFormat = result.bodyFormat;
      ctx.status = 200;
      ctx.body = { received: true, id: result.eventId, outcome: result.outcome };
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        outcome = "too_large";
        ctx.status = 413;
        ctx.set("Connection", "close");
        ctx.body = { error: "payload_too_large", message: error.message };
      } else if (error instanceof StripeSignatureError) {
        outcome = "invalid_signature";
        ctx.status = 400;
        ctx.body = { error: error.reason, message: error.message };
      } else if (error instanceof BadRequestError) {
        outcome = "bad_request";
        ctx.status = 400;
        ctx.body = { error: "invalid_event", message: error.message };
      } else if (error instanceof RetryableSyncError) {
        outcome = error.code === "enqueue_rejected" ? "enqueue_rejected" : "enqueue_failed";
        ctx.status = 503;
        ctx.set("Retry-After", "5");
        ctx.body = { error: "enqueue_failed", message: "the event could not be stored durably; retry later" };
        ctx.state.log.error("enqueue failed", { reason: error.message, code: error.code });
      } else {
        outcome = "error";
        ctx.status = 500;
        ctx.body = { error: "internal_error" };
        ctx.state.log.error("webhook failed", { error: (error as Error).stack ?? String(error) });
      }
    } finally {
      ctx.state.logFields.outcome = outcome;
      options.metrics.webhooks.inc({ event_type: eventType, outcome });
      options.metrics.webhookDuration.observe({ outcome }, (performance.now() - started) / 1000);
    }
  });
  return router;
}

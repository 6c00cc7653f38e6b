import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebhookReceiver } from "../../domain/ingest/receive-webhook.js";
import { StripeSignatureError } from "../../domain/ingest/verify-stripe-signature.js";
import { BadRequestError, RetryableSyncError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { createAccessLogWriter, type AccessLogWriter } from "./access-log.js";
import { correlationIdOf } from "./correlation-id.js";
import { BodyTooLargeError, IncompleteBodyError, readRawBody } from "./read-raw-body.js";
import type { WebhookRequestTracer } from "./webhook-request-tracer.js";

/** Where Stripe posts events. */
export const STRIPE_WEBHOOK_PATH = "/webhook/stripe";

/** Options of the Stripe webhook handler. */
export interface StripeWebhookHandlerOptions {
  receive: WebhookReceiver;
  metrics: Metrics;
  logger: Logger;
  bodyLimitBytes: number;
  /** Where the access line goes (default: the logger's stdout, in its shape). */
  writeAccessLine?: AccessLogWriter;
  /** Traces each POST (set only when tracing is on: otherwise no span and no context work). */
  trace?: WebhookRequestTracer | undefined;
}

/** One answer: status, JSON body, extra headers, and what the metrics and the access line say. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  outcome: string;
}

/** True when the request is for the webhook path (any query string aside). */
export function isStripeWebhookPath(url: string | undefined): boolean {
  if (!url?.startsWith(STRIPE_WEBHOOK_PATH)) return false;
  return url.length === STRIPE_WEBHOOK_PATH.length || url[STRIPE_WEBHOOK_PATH.length] === "?";
}

/** The answer to a request whose handling threw: typed errors map to status codes. */
function answerToError(
  error: unknown,
  log: (message: string, fields: Record<string, unknown>) => void,
): Answer {
  if (error instanceof BodyTooLargeError)
    return {
      status: 413,
      body: { error: "payload_too_large", message: error.message },
      headers: { Connection: "close" },
      outcome: "too_large",
    };
  // Nobody reads this answer: the access line and the metric say what happened, no error is logged.
  if (error instanceof IncompleteBodyError)
    return {
      status: 400,
      body: { error: "incomplete_body", message: error.message },
      headers: { Connection: "close" },
      outcome: "incomplete_body",
    };
  if (error instanceof StripeSignatureError)
    return {
      status: 400,
      body: { error: error.reason, message: error.message },
      outcome: "invalid_signature",
    };
  if (error instanceof BadRequestError)
    return { status: 400, body: { error: "invalid_event", message: error.message }, outcome: "bad_request" };
  if (error instanceof RetryableSyncError) {
    log("enqueue failed", { reason: error.message, code: error.code });
    return {
      status: 503,
      body: { error: "enqueue_failed", message: "the event could not be stored durably; retry later" },
      headers: { "Retry-After": "5" },
      outcome: error.code === "enqueue_rejected" ? "enqueue_rejected" : "enqueue_failed",
    };
  }
  log("webhook failed", { error: (error as Error)?.stack ?? String(error) });
  return { status: 500, body: { error: "internal_error" }, outcome: "error" };
}

/**
 * Every request to `/webhook/stripe`, on node:http directly rather than through Koa, which cost
 * about a fifth of a webhook's CPU in bench:ingest. POST: raw body in, typed errors out as status
 * codes; 200 only once the event is in the queue, 400 with a JSON reason for anything Stripe should
 * not resend as is, 413 above the body limit, 503 when the queue did not take it, so Stripe retries.
 * OPTIONS: 204; any other method: 405, both with `Allow: POST`. One JSON access line per request.
 */
export function createStripeWebhookHandler(
  options: StripeWebhookHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const { metrics, logger } = options;
  const writeAccessLine = options.writeAccessLine ?? createAccessLogWriter(logger);

  const send = (response: ServerResponse, correlationId: string, answer: Answer) => {
    if (answer.status === 204) {
      response.writeHead(204, { "x-request-id": correlationId, ...answer.headers });
      response.end();
      return;
    }
    const json = JSON.stringify(answer.body);
    response.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(json),
      "x-request-id": correlationId,
      ...answer.headers,
    });
    response.end(json);
  };

  const handlePost = async (request: IncomingMessage, correlationId: string) => {
    const fields: Record<string, unknown> = {};
    let answer: Answer;
    let eventType = "unknown";
    try {
      const rawBody = await readRawBody(request, options.bodyLimitBytes);
      const signature = request.headers["stripe-signature"];
      const result = await options.receive(
        rawBody,
        typeof signature === "string" ? signature : undefined,
        correlationId,
      );
      eventType = result.eventType;
      fields.eventId = result.eventId;
      fields.eventType = result.eventType;
      if (result.bodyFormat) fields.bodyFormat = result.bodyFormat;
      answer = {
        status: 200,
        body: { received: true, id: result.eventId, outcome: result.outcome },
        outcome: result.outcome,
      };
    } catch (error) {
      answer = answerToError(error, (message, extra) => logger.error(message, { correlationId, ...extra }));
    }
    return { answer, fields, eventType };
  };

  return (request, response) => {
    const started = performance.now();
    const correlationId = correlationIdOf(request.headers["x-request-id"]);
    const span = request.method === "POST" ? options.trace?.(request, correlationId) : undefined;
    const finish = (answer: Answer, fields: Record<string, unknown>, eventType?: string) => {
      send(response, correlationId, answer);
      span?.end(answer.status, answer.outcome, fields);
      const seconds = (performance.now() - started) / 1000;
      if (eventType !== undefined) {
        metrics.webhooks.inc({ event_type: eventType, outcome: answer.outcome });
        metrics.webhookDuration.observe({ outcome: answer.outcome }, seconds);
      }
      writeAccessLine("info", {
        correlationId,
        ...(span ? { traceId: span.traceId } : {}),
        method: request.method,
        path: STRIPE_WEBHOOK_PATH,
        status: answer.status,
        durationMs: Math.round(seconds * 100_000) / 100,
        ...fields,
        ...(eventType === undefined ? {} : { outcome: answer.outcome }),
      });
    };
    if (request.method !== "POST") {
      request.resume();
      const allow = { Allow: "POST" };
      if (request.method === "OPTIONS")
        return finish({ status: 204, body: {}, headers: allow, outcome: "" }, {});
      return finish(
        {
          status: 405,
          body: { error: "method_not_allowed", allowed: ["POST"] },
          headers: allow,
          outcome: "",
        },
        {},
      );
    }
    (span ? span.run(() => handlePost(request, correlationId)) : handlePost(request, correlationId))
      .then(({ answer, fields, eventType }) => finish(answer, fields, eventType))
      // Only answering can fail here (the socket is gone): never an unhandled rejection.
      .catch((error: unknown) =>
        logger.error("answering a webhook failed", { correlationId, error: String(error) }),
      );
  };
}

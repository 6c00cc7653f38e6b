import type { IncomingMessage } from "node:http";
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";
import type { Tracing } from "../../shared/tracing.js";

/** One POST to the webhook path as a server span. */
export interface WebhookRequestTrace {
  /** The trace id, for the access line. */
  readonly traceId: string;
  /** Runs the request's handling with the span active, so the enqueue span is its child. */
  run<T>(handle: () => Promise<T>): Promise<T>;
  /** Ends the span with the answer: its status, outcome, and the event's id and type when known. */
  end(status: number, outcome: string, fields: { eventId?: unknown; eventType?: unknown }): void;
}

/** Starts a request's span; the handler calls it for each POST when tracing is on. */
export type WebhookRequestTracer = (request: IncomingMessage, correlationId: string) => WebhookRequestTrace;

/**
 * The webhook's server spans, hand-made on node:http (the handler bypasses Koa, and Koa's own
 * instrumentation is unmaintained upstream): a trace per webhook, or the caller's trace when the
 * request carries one (`traceparent`, or what OTEL_PROPAGATORS names).
 */
export function webhookRequestTracer(tracing: Tracing, path: string): WebhookRequestTracer {
  const name = `POST ${path}`;
  return (request, correlationId) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracing.tracer.startSpan(
      name,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [SPAN_ATTRIBUTE.httpMethod]: "POST",
          [SPAN_ATTRIBUTE.httpRoute]: path,
          [SPAN_ATTRIBUTE.correlationId]: correlationId,
        },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    return {
      traceId: span.spanContext().traceId,
      run: (handle) => context.with(active, handle),
      end(status, outcome, fields) {
        span.setAttribute(SPAN_ATTRIBUTE.httpStatus, status);
        if (outcome) span.setAttribute(SPAN_ATTRIBUTE.outcome, outcome);
        if (typeof fields.eventId === "string") span.setAttribute(SPAN_ATTRIBUTE.eventId, fields.eventId);
        if (typeof fields.eventType === "string")
          span.setAttribute(SPAN_ATTRIBUTE.eventType, fields.eventType);
        // A server span fails on 5xx only; a 4xx is the client's (OpenTelemetry's HTTP conventions).
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        span.end();
      },
    };
  };
}

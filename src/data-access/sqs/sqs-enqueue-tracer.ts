import { context, defaultTextMapSetter, SpanKind, trace } from "@opentelemetry/api";
import type { EnqueueTracer } from "../../domain/ingest/enqueue-tracer.js";
import { recordFailure } from "../../shared/in-span.js";
import { messagingAttributes, queueNameOf, SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";
import type { Tracing } from "../../shared/tracing.js";

/**
 * Each enqueue as a producer span `send <queue>`, a child of the active span (the webhook's
 * request), from the encoding to SQS's answer (the batching window included); the span's W3C
 * context is what the message carries to the worker.
 */
export function sqsEnqueueTracer(tracing: Tracing, queueUrl: string): EnqueueTracer {
  const name = `send ${queueNameOf(queueUrl)}`;
  const base = messagingAttributes(queueUrl, "send");
  return {
    begin(event) {
      const span = tracing.tracer.startSpan(name, {
        kind: SpanKind.PRODUCER,
        attributes: { ...base, [SPAN_ATTRIBUTE.eventId]: event.id, [SPAN_ATTRIBUTE.eventType]: event.type },
      });
      const attributes: Record<string, string> = {};
      tracing.messagePropagator.inject(
        trace.setSpan(context.active(), span),
        attributes,
        defaultTextMapSetter,
      );
      return {
        attributes,
        end({ bodyFormat, error }) {
          if (bodyFormat) span.setAttribute(SPAN_ATTRIBUTE.bodyFormat, bodyFormat);
          if (error !== undefined) recordFailure(span, error);
          span.end();
        },
      };
    },
  };
}

import { trace } from "@opentelemetry/api";

/**
 * `traceId` and `spanId` of the span active where a line is logged, so log lines and traces find
 * each other; undefined outside any span. Given to createLogger only when tracing is on.
 */
export function activeTraceFields(): Record<string, string> | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

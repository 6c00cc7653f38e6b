import type { TextMapPropagator, Tracer } from "@opentelemetry/api";

/**
 * OpenTelemetry tracing once the OTEL_* variables turned it on (start-tracing.ts). Absent when they
 * did not: then nothing of OpenTelemetry is loaded, and no span or trace context is made anywhere.
 */
export interface Tracing {
  /** Where every span of the service starts. */
  readonly tracer: Tracer;
  /**
   * Carries a trace on a queue message: W3C `traceparent` and `tracestate` only, whatever
   * OTEL_PROPAGATORS says (SQS takes 10 message attributes; baggage would take more).
   */
  readonly messagePropagator: TextMapPropagator;
  /** Most links one span keeps: OTEL_SPAN_LINK_COUNT_LIMIT (128), raised to the worker's group size up to 1000. */
  readonly linkLimit: number;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and stops tracing (the API falls back to its no-op); once, at shutdown. */
  shutdown(): Promise<void>;
}

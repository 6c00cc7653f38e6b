import { SpanStatusCode, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";

/** Marks `span` failed with `error` (its kind and message, as an exception event). */
export function recordFailure(span: Span, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  span.recordException(failure);
  const code = (error as { code?: unknown }).code;
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof code === "string" ? `${code}: ${failure.message}` : failure.message,
  });
}

/**
 * Runs `work` in a new span, active while it runs (spans it starts are its children): a throw is
 * recorded on the span and rethrown; the span ends when `work` settles.
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      recordFailure(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

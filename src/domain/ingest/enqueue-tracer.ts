import type { BodyFormat, MessageAttributes } from "./queue-message-codec.js";

/** One event's way onto the queue, as a trace records it. */
export interface EnqueueTrace {
  /**
   * Message attributes that carry the trace to the worker (`traceparent`, and `tracestate` when
   * there is one): the codec adds them and counts them in the message's size.
   */
  readonly attributes: MessageAttributes;
  /** Ends it: the queue took the event (in `bodyFormat` when not as is), or `error` says why not. */
  end(result: { bodyFormat?: BodyFormat | undefined; error?: unknown }): void;
}

/**
 * Traces each event put on the queue, within the trace of whatever puts it there (the webhook's
 * request). Implemented with OpenTelemetry in data-access/sqs; absent when tracing is off.
 */
export interface EnqueueTracer {
  begin(event: { id: string; type: string }): EnqueueTrace;
}

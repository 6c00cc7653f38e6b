import { RetryableSyncError } from "../../shared/errors.js";
import { HANDLED_EVENT_TYPES } from "../sync/event-handlers.js";
import type { EnqueueTracer } from "./enqueue-tracer.js";
import type { EventQueue } from "./event-queue.js";
import { parseStripeEvent } from "./parse-stripe-event.js";
import { encodeEventMessage, type BodyFormat } from "./queue-message-codec.js";

/** What became of one event offered to the queue. */
export interface EnqueueResult {
  outcome: "accepted" | "ignored";
  eventId: string;
  eventType: string;
  /** How an accepted event's body went on the queue when not as is (compressed, or slimmed). */
  bodyFormat?: BodyFormat | undefined;
}

/** Where events go and how. */
export interface EnqueueEventDeps {
  queue: EventQueue;
  /**
   * An event too large for the queue even compressed may go as a slimmed envelope that the worker
   * completes from the Stripe API (true when a Stripe API key is configured).
   */
  canSlimEvents: boolean;
  /** Traces each enqueue and puts its trace context on the message (absent: tracing is off). */
  tracer?: EnqueueTracer | undefined;
}

const asEnqueueFailure = (error: unknown, eventId: string) =>
  error instanceof RetryableSyncError
    ? error
    : new RetryableSyncError("enqueue_failed", `the queue did not accept event ${eventId}`, { cause: error });

/**
 * Puts one authentic event on the queue as the worker reads it (the webhook after its signature
 * check, `replay` after reading Stripe's Events API): checks the shape (BadRequestError), skips
 * types without a handler (ignored), encodes it in the first form the queue takes, and resolves
 * once the queue has it. Throws RetryableSyncError `enqueue_failed`, or `enqueue_rejected` when no
 * form fits the queue's MaximumMessageSize.
 */
export async function enqueueEvent(
  deps: EnqueueEventDeps,
  raw: Buffer,
  json: string,
  correlationId: string,
): Promise<EnqueueResult> {
  const event = parseStripeEvent(json);
  if (!HANDLED_EVENT_TYPES.has(event.type))
    return { outcome: "ignored", eventId: event.id, eventType: event.type };
  const trace = deps.tracer?.begin({ id: event.id, type: event.type });
  try {
    const maxMessageBytes = await deps.queue.maxMessageBytes();
    const message = await encodeEventMessage({
      raw,
      json,
      envelope: event,
      correlationId,
      ...(trace ? { traceAttributes: trace.attributes } : {}),
      maxMessageBytes,
      canSlim: deps.canSlimEvents,
    });
    if (!message) {
      throw new RetryableSyncError(
        "enqueue_rejected",
        `event ${event.id} (${raw.length} bytes) is larger than the queue's MaximumMessageSize of ` +
          `${maxMessageBytes} bytes even compressed` +
          (deps.canSlimEvents ? "" : ", and without STRIPE_API_KEY it cannot be sent slimmed"),
      );
    }
    await deps.queue.enqueue({
      ...message,
      eventId: event.id,
      orderingKey: event.customerId ?? event.objectId ?? event.id,
    });
    trace?.end({ bodyFormat: message.format });
    return { outcome: "accepted", eventId: event.id, eventType: event.type, bodyFormat: message.format };
  } catch (error) {
    trace?.end({ error });
    throw asEnqueueFailure(error, event.id);
  }
}

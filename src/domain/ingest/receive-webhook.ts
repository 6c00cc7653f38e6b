import type { Clock } from "../../shared/clock.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { EventQueue } from "./event-queue.js";
import { HANDLED_EVENT_TYPES } from "../sync/event-handlers.js";
import { parseStripeEvent } from "./parse-stripe-event.js";
import { encodeEventMessage, type BodyFormat } from "./queue-message-codec.js";
import { verifyStripeSignature } from "./verify-stripe-signature.js";

/** What happened to an authentic webhook. */
export interface ReceiveResult {
  outcome: "accepted" | "ignored";
  eventId: string;
  eventType: string;
  /** How an accepted event's body went on the queue when not as is (compressed, or slimmed). */
  bodyFormat?: BodyFormat | undefined;
}

/** Settings and collaborators of the ingest path. */
export interface ReceiveWebhookDeps {
  queue: EventQueue;
  clock: Clock;
  /** Endpoint secrets; any of them may have signed the request. */
  secrets: readonly string[];
  toleranceSeconds: number;
  /**
   * An event too large for the queue even compressed may go as a slimmed envelope that the worker
   * completes from the Stripe API (true when a Stripe API key is configured).
   */
  canSlimEvents: boolean;
}

const asEnqueueFailure = (error: unknown, eventId: string) =>
  error instanceof RetryableSyncError
    ? error
    : new RetryableSyncError("enqueue_failed", `the queue did not accept event ${eventId}`, { cause: error });

/**
 * Verify, check the shape, enqueue durably. Throws StripeSignatureError or BadRequestError for
 * requests that must get a 400, and RetryableSyncError (code `enqueue_failed`, or `enqueue_rejected`
 * when the queue refuses the message itself, e.g. too large in every form) when the queue did not
 * take the event, which must never be answered 2xx. Types without a handler are acknowledged
 * without being queued: there is nothing to sync, and Stripe must not retry them.
 */
export function createWebhookReceiver(deps: ReceiveWebhookDeps) {
  return async function receiveWebhook(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    correlationId: string,
  ): Promise<ReceiveResult> {
    // Decoded once: the signature check, the parse and the queue message all read this string.
    const json = rawBody.toString("utf8");
    verifyStripeSignature(json, signatureHeader, {
      secrets: deps.secrets,
      toleranceSeconds: deps.toleranceSeconds,
      nowMs: deps.clock.now(),
    });
    const event = parseStripeEvent(json);
    if (!HANDLED_EVENT_TYPES.has(event.type))
      return { outcome: "ignored", eventId: event.id, eventType: event.type };
    try {
      const maxMessageBytes = await deps.queue.maxMessageBytes();
      const message = await encodeEventMessage({
        raw: rawBody,
        json,
        envelope: event,
        correlationId,
        maxMessageBytes,
        canSlim: deps.canSlimEvents,
      });
      if (!message) {
        throw new RetryableSyncError(
          "enqueue_rejected",
          `event ${event.id} (${rawBody.length} bytes) is larger than the queue's MaximumMessageSize of ` +
            `${maxMessageBytes} bytes even compressed` +
            (deps.canSlimEvents ? "" : ", and without STRIPE_API_KEY it cannot be sent slimmed"),
        );
      }
      await deps.queue.enqueue({
        ...message,
        eventId: event.id,
        orderingKey: event.customerId ?? event.objectId ?? event.id,
      });
      return { outcome: "accepted", eventId: event.id, eventType: event.type, bodyFormat: message.format };
    } catch (error) {
      throw asEnqueueFailure(error, event.id);
    }
  };
}

/** The ingest entry the HTTP edge calls. */
export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

import type { Clock } from "../../shared/clock.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { EventQueue } from "./event-queue.js";
import { HANDLED_EVENT_TYPES } from "../sync/event-handlers.js";
import { parseStripeEvent } from "./parse-stripe-event.js";
import { verifyStripeSignature } from "./verify-stripe-signature.js";

/** What happened to an authentic webhook. */
export interface ReceiveResult {
  outcome: "accepted" | "ignored";
  eventId: string;
  eventType: string;
}

/** Settings and collaborators of the ingest path. */
export interface ReceiveWebhookDeps {
  queue: EventQueue;
  clock: Clock;
  /** Endpoint secrets; any of them may have signed the request. */
  secrets: readonly string[];
  toleranceSeconds: number;
}

/**
 * Verify, check the shape, enqueue durably. Throws StripeSignatureError or BadRequestError for
 * requests that must get a 400, and RetryableSyncError (code `enqueue_failed`) when the queue did
 * not take the event, which must never be answered 2xx. Types without a handler are acknowledged
 * without being queued: there is nothing to sync, and Stripe must not retry them.
 */
export function createWebhookReceiver(deps: ReceiveWebhookDeps) {
  return async function receiveWebhook(
    rawBody: Buffer,
    signatureHeader: string | undefined,
    correlationId: string,
  ): Promise<ReceiveResult> {
    verifyStripeSignature(rawBody, signatureHeader, {
      secrets: deps.secrets,
      toleranceSeconds: deps.toleranceSeconds,
      nowMs: deps.clock.now(),
    });
    const event = parseStripeEvent(rawBody);
    if (!HANDLED_EVENT_TYPES.has(event.type))
      return { outcome: "ignored", eventId: event.id, eventType: event.type };
    try {
      await deps.queue.enqueue({
        body: rawBody.toString("utf8"),
        eventId: event.id,
        eventType: event.type,
        correlationId,
        orderingKey: event.customerId ?? event.objectId ?? event.id,
      });
    } catch (error) {
      if (error instanceof RetryableSyncError) throw error;
      throw new RetryableSyncError("enqueue_failed", `the queue did not accept event ${event.id}`, {
        cause: error,
      });
    }
    return { outcome: "accepted", eventId: event.id, eventType: event.type };
  };
}

/** The ingest entry the HTTP edge calls. */
export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

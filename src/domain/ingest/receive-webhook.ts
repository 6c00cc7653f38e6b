import type { Clock } from "../../shared/clock.js";
import { enqueueEvent, type EnqueueResult } from "./enqueue-event.js";
import type { EnqueueTracer } from "./enqueue-tracer.js";
import type { EventQueue } from "./event-queue.js";
import { verifyStripeSignature } from "./verify-stripe-signature.js";

/** What happened to an authentic webhook. */
export type ReceiveResult = EnqueueResult;

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
  /** Traces each enqueue and puts its trace context on the message (absent: tracing is off). */
  tracer?: EnqueueTracer | undefined;
}

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
    return enqueueEvent(deps, rawBody, json, correlationId);
  };
}

/** The ingest entry the HTTP edge calls. */
export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

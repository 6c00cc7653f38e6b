import {
  distrustOf,
  isEventBridgeEnvelope,
  readEnvelope,
  type EventBridgeTrust,
} from "../../domain/ingest/eventbridge-envelope.js";
import { decodeEventMessage } from "../../domain/ingest/queue-message-codec.js";
import { eventOfThin, isThinEvent } from "../../domain/ingest/thin-event.js";
import { isStripeEvent, type StripeEvent } from "../../domain/stripe-event.js";

/** Who put a message on the queue: the web role, or an EventBridge rule (the body is its envelope). */
export type MessageOrigin = "webhook" | "eventbridge";

/** Why a message cannot be synced: it goes to the dead-letter queue with these. */
export interface Rejection {
  /** `unparseable_body` (not an event), `untrusted_source` (an EventBridge envelope from an unconfigured source or account). */
  reason: "unparseable_body" | "untrusted_source";
  detail: string;
}

/** A message body read: the event and what the sync must do first, or why it cannot be synced. */
export type ReadMessage =
  | {
      origin: MessageOrigin;
      event: StripeEvent;
      /** `data.object` holds only an id and kind: read it from Stripe first (a slimmed or thin event). */
      needsObject: boolean;
      /** A thin event: synced only when its object is one we sync and can read. */
      isThin: boolean;
    }
  | { origin: MessageOrigin; rejection: Rejection };

const unparseable = (origin: MessageOrigin, detail: string): ReadMessage => ({
  origin,
  rejection: { reason: "unparseable_body", detail },
});

/** Reads the event out of a trusted EventBridge envelope: a snapshot event as is, a thin one to be completed. */
function readEnvelopeBody(value: Record<string, unknown>, trust: EventBridgeTrust): ReadMessage {
  const envelope = readEnvelope(value);
  const distrust = distrustOf(envelope, trust);
  if (distrust) return { origin: "eventbridge", rejection: { reason: "untrusted_source", detail: distrust } };
  if (isThinEvent(envelope.detail)) {
    const thin = eventOfThin(envelope.detail);
    if ("problem" in thin) return unparseable("eventbridge", `EventBridge detail: ${thin.problem}`);
    return { origin: "eventbridge", event: thin.event, needsObject: true, isThin: true };
  }
  if (!isStripeEvent(envelope.detail))
    return unparseable(
      "eventbridge",
      "the EventBridge envelope's detail is not a Stripe event (needs id, type, created, data.object)",
    );
  return { origin: "eventbridge", event: envelope.detail, needsObject: false, isThin: false };
}

/**
 * Reads a message body as the queue carries it, never throwing: one of the web role's forms (by
 * its `body_format` attribute, see queue-message-codec.ts; a snapshot or a thin event), or an EventBridge envelope, told from
 * the body itself since EventBridge sets no attributes, accepted only from `trust`'s sources and
 * AWS accounts.
 */
export function readMessageBody(
  body: string | undefined,
  bodyFormat: string | undefined,
  trust: EventBridgeTrust,
): ReadMessage {
  const decoded = decodeEventMessage(body, bodyFormat);
  if ("problem" in decoded) return unparseable("webhook", decoded.problem);
  let value: unknown;
  try {
    value = JSON.parse(decoded.json);
  } catch (error) {
    return unparseable("webhook", `body is not JSON: ${(error as Error).message}`);
  }
  if (isEventBridgeEnvelope(value)) return readEnvelopeBody(value, trust);
  // A thin event posted to the webhook by an event destination of type webhook.
  if (isThinEvent(value)) {
    const thin = eventOfThin(value);
    if ("problem" in thin) return unparseable("webhook", thin.problem);
    return { origin: "webhook", event: thin.event, needsObject: true, isThin: true };
  }
  if (!isStripeEvent(value))
    return unparseable("webhook", "body is not a Stripe event (needs id, type, created, data.object)");
  return { origin: "webhook", event: value, needsObject: decoded.needsObject, isThin: false };
}

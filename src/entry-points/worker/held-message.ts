import type { Message } from "@aws-sdk/client-sqs";
import type { Logger } from "../../shared/logger.js";
import { accountOf, customerIdOf, type StripeEvent } from "../../domain/stripe-event.js";
import type { EventBridgeTrust } from "../../domain/ingest/eventbridge-envelope.js";
import { ATTRIBUTE } from "../../domain/ingest/queue-message-codec.js";
import { readMessageBody, type MessageOrigin, type Rejection } from "./parse-message.js";

/** A received SQS message while the worker holds it (between ReceiveMessage and its settlement). */
export interface HeldMessage {
  readonly raw: Message;
  readonly messageId: string;
  readonly receiptHandle: string;
  /** `ApproximateReceiveCount`: 1 on the first delivery. */
  readonly receiveCount: number;
  /** Who put it on the queue: the web role or an EventBridge rule. */
  readonly origin: MessageOrigin;
  /** The Stripe event in the body, or undefined when the body is not one. */
  readonly event: StripeEvent | undefined;
  /** Why the body cannot be synced (set exactly when `event` is undefined): it is dead-lettered with it. */
  readonly rejection: Rejection | undefined;
  /** The body is a slimmed envelope or a thin event: `data.object` must be read from Stripe before syncing. */
  readonly needsObject: boolean;
  /** A thin event (EventBridge): synced only when its object is one we sync and can read. */
  readonly isThin: boolean;
  /** Child logger carrying `correlationId`, `eventId`, `eventType`, `messageId`, and `account` and `origin` when set. */
  readonly log: Logger;
  /** What keeps its records together with others' (the customer, else the object or message id). */
  readonly partitionKey: string;
  /** When the worker received it (clock ms): the heartbeat extends its visibility for a bounded time. */
  readonly heldAt: number;
  /** Tries of this delivery inside the worker so far (quick retries of record-level failures). */
  attempts: number;
  /** Resolves once the message is settled (deleted, hidden for a retry, dead-lettered or released). */
  readonly whenSettled: Promise<void>;
  /** True once settled; settling twice is a no-op. */
  isSettled(): boolean;
  /** Marks the message settled; returns false when it already was. */
  markSettled(): boolean;
}

/** Reads a String message attribute, e.g. `correlation_id`. */
export function readStringAttribute(message: Message, name: string): string | undefined {
  const value = message.MessageAttributes?.[name]?.StringValue;
  return value === undefined || value === "" ? undefined : value;
}

/** No EventBridge envelope is trusted (the default). */
const TRUST_NONE: EventBridgeTrust = { sources: [], awsAccounts: [] };

/**
 * Wraps a received message: reads its body (EventBridge envelopes only from `trust`'s sources and
 * AWS accounts) and gives it a logger with its identifiers.
 */
export function holdMessage(
  message: Message,
  logger: Logger,
  heldAt: number,
  trust: EventBridgeTrust = TRUST_NONE,
): HeldMessage {
  const read = readMessageBody(message.Body, readStringAttribute(message, ATTRIBUTE.bodyFormat), trust);
  const event = "event" in read ? read.event : undefined;
  const account = event ? accountOf(event) : undefined;
  const messageId = message.MessageId ?? "unknown";
  const eventId = event?.id ?? readStringAttribute(message, "event_id");
  const eventType = event?.type ?? readStringAttribute(message, "event_type");
  const correlationId = readStringAttribute(message, "correlation_id") ?? eventId ?? messageId;
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? "1");
  let settled = false;
  let resolveSettled: () => void = () => {};
  const whenSettled = new Promise<void>((resolve) => (resolveSettled = resolve));
  return {
    raw: message,
    messageId,
    receiptHandle: message.ReceiptHandle ?? "",
    receiveCount: Number.isFinite(receiveCount) && receiveCount >= 1 ? receiveCount : 1,
    partitionKey:
      (event && (customerIdOf(event.data.object) ?? (event.data.object.id as string | undefined))) ??
      messageId,
    heldAt,
    attempts: 0,
    origin: read.origin,
    event,
    rejection: "rejection" in read ? read.rejection : undefined,
    needsObject: "event" in read && read.needsObject,
    isThin: "event" in read && read.isThin,
    log: logger.child({
      correlationId,
      eventId,
      eventType,
      messageId,
      ...(account ? { account } : {}),
      ...(read.origin === "eventbridge" ? { origin: read.origin } : {}),
    }),
    whenSettled,
    isSettled: () => settled,
    markSettled() {
      if (settled) return false;
      settled = true;
      resolveSettled();
      return true;
    },
  };
}

/**
 * The part of a Stripe event envelope the service reads. Stripe sends more (request, pending_webhooks,
 * ...); unknown fields are carried along and ignored. `data.object` stays untyped here: each mapper
 * validates the shape it needs, because its shape depends on the endpoint's pinned API version.
 */
export interface StripeEvent {
  /** `evt_...`, unique per event; the idempotency key of the whole pipeline. */
  id: string;
  object?: "event";
  /** e.g. `customer.subscription.updated`. */
  type: string;
  /** Unix seconds when Stripe created the event (one-second resolution). */
  created: number;
  /** API version the payload was rendered with; null for some Connect events. */
  api_version?: string | null;
  livemode: boolean;
  /** The connected account (`acct_...`) of a Connect event; absent for the platform's own events. */
  account?: string;
  data: {
    /** The Stripe object as of the event, in the endpoint's API version. */
    object: Record<string, unknown>;
    previous_attributes?: Record<string, unknown>;
  };
}

/** True when `value` has the envelope fields every Stripe event carries (id, type, created, data.object). */
export function isStripeEvent(value: unknown): value is StripeEvent {
  if (typeof value !== "object" || value === null) return false;
  const event = value as Record<string, unknown>;
  const data = event.data as Record<string, unknown> | undefined;
  return (
    typeof event.id === "string" &&
    event.id !== "" &&
    typeof event.type === "string" &&
    typeof event.created === "number" &&
    Number.isFinite(event.created) &&
    typeof data === "object" &&
    data !== null &&
    typeof data.object === "object" &&
    data.object !== null
  );
}

/** The connected account of a Connect event, or undefined for the platform's own (or a malformed `account`). */
export function accountOf(event: { account?: unknown }): string | undefined {
  return typeof event.account === "string" && event.account !== "" ? event.account : undefined;
}

/**
 * The customer an event's object belongs to (the customer itself for a customer event), or
 * undefined: what keeps one customer's records together (FIFO groups, worker lanes).
 */
export function customerIdOf(object: Record<string, unknown>): string | undefined {
  if (object.object === "customer" && typeof object.id === "string") return object.id;
  const customer = object.customer;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && typeof (customer as { id?: unknown }).id === "string")
    return (customer as { id: string }).id;
  return undefined;
}

import type { StripeEvent } from "../stripe-event.js";
import { mapCheckoutSession } from "./map-checkout-session.js";
import { mapCustomer } from "./map-customer.js";
import { mapPaymentIntent, paymentStatusOf } from "./map-payment-intent.js";
import { mapSubscription } from "./map-subscription.js";
import type { MappedRecord } from "./mapped-record.js";
import type { StripeObject, StripeObjectReader } from "./stripe-port.js";

/**
 * Which fields of a record an event owns. `main`: the object's own fields, ordered newest-wins.
 * `checkout`: Sync_Status__c and Checkout_Session_Id__c, which are never taken back and so need no
 * ordering against the subscription's events.
 */
export type Channel = "main" | "checkout";

/** A mapped record and whether it puts the record in a final state. */
export interface MappedWrite {
  record: MappedRecord;
  /** Deleted subscription, deleted customer, Succeeded payment: later events do not take it back. */
  isFinal: boolean;
}

/** How one event type is synced. */
export interface EventHandler {
  channel: Channel;
  /** Maps a Stripe object (the event's, or the re-read current one); null: nothing to write. */
  map(object: Record<string, unknown>, event: StripeEvent): MappedWrite | null;
  /** Re-reads the current object (on behalf of `account`, a Connect event's); absent for final states, whose payload is the last word. */
  reread?: (reader: StripeObjectReader, id: string, account?: string) => Promise<StripeObject | undefined>;
}

const customerHandler = (isDeleted: boolean): EventHandler => ({
  channel: "main",
  map: (object) => ({ record: mapCustomer(object, { isDeleted }), isFinal: isDeleted }),
  ...(isDeleted ? {} : { reread: (reader, id, account) => reader.retrieveCustomer(id, account) }),
});

const subscriptionHandler = (isDeleted: boolean): EventHandler => ({
  channel: "main",
  map: (object) => {
    const record = mapSubscription(object, { isDeleted });
    // canceled is terminal in Stripe: no later event takes a subscription out of it.
    return { record, isFinal: isDeleted || record.fields.Status__c === "canceled" };
  },
  ...(isDeleted ? {} : { reread: (reader, id, account) => reader.retrieveSubscription(id, account) }),
});

const paymentIntentHandler: EventHandler = {
  channel: "main",
  map: (object, event) => {
    const status = paymentStatusOf(event.type, object);
    return { record: mapPaymentIntent(object, { status }), isFinal: status === "Succeeded" };
  },
  reread: (reader, id, account) => reader.retrievePaymentIntent(id, account),
};

const checkoutHandler: EventHandler = {
  channel: "checkout",
  map: (object) => {
    const record = mapCheckoutSession(object);
    return record ? { record, isFinal: false } : null;
  },
};

/** The handled event types; every other type is acknowledged as ignored and never retried. */
export const EVENT_HANDLERS: Readonly<Record<string, EventHandler>> = {
  "customer.created": customerHandler(false),
  "customer.updated": customerHandler(false),
  "customer.deleted": customerHandler(true),
  "customer.subscription.created": subscriptionHandler(false),
  "customer.subscription.updated": subscriptionHandler(false),
  "customer.subscription.deleted": subscriptionHandler(true),
  "payment_intent.succeeded": paymentIntentHandler,
  "payment_intent.payment_failed": paymentIntentHandler,
  "checkout.session.completed": checkoutHandler,
};

/**
 * The event types the worker writes to Salesforce, derived from the handlers: the webhook enqueues
 * exactly these and acknowledges every other type without queueing it.
 */
export const HANDLED_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(EVENT_HANDLERS));

/** The handler of `eventType`, or undefined when the type is not synced. */
export function handlerFor(eventType: string): EventHandler | undefined {
  return Object.hasOwn(EVENT_HANDLERS, eventType) ? EVENT_HANDLERS[eventType] : undefined;
}

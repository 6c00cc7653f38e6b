import { PermanentSyncError } from "../../shared/errors.js";
import type { MappedWrite } from "./event-handlers.js";
import { mapCustomer } from "./map-customer.js";
import { mapPaymentIntent, type PaymentStatus } from "./map-payment-intent.js";
import { mapSubscription } from "./map-subscription.js";
import type { DefaultObjectName } from "./mapped-record.js";
import type { StripeObject } from "./stripe-port.js";

/** The Stripe objects a backfill or a reconcile reads, by their list resource. */
export type ReadObjectKind = "customers" | "subscriptions" | "payment_intents";

/** Parents first: the order in which kinds are read and written. */
export const READ_OBJECT_KINDS: readonly ReadObjectKind[] = ["customers", "subscriptions", "payment_intents"];

/** The Salesforce object each kind lands in (default names). */
export const OBJECT_OF_KIND: Record<ReadObjectKind, DefaultObjectName> = {
  customers: "Stripe_Customer__c",
  subscriptions: "Stripe_Subscription__c",
  payment_intents: "Payment_Transaction__c",
};

/** What one object read without an event comes to: a write, or why it is not written. */
export type ReadObjectWrite = { write: MappedWrite } | { skip: "not_written"; detail: string };

/**
 * The contract's status for a payment intent read without an event: `succeeded` is Succeeded; one
 * with a `last_payment_error` that did not succeed (`requires_payment_method`, `canceled`) is
 * Failed; any other state is not written.
 */
export function paymentStatusOfObject(intent: StripeObject): PaymentStatus | undefined {
  if (intent.status === "succeeded") return "Succeeded";
  const hasError = typeof intent.last_payment_error === "object" && intent.last_payment_error !== null;
  if (hasError && (intent.status === "requires_payment_method" || intent.status === "canceled"))
    return "Failed";
  return undefined;
}

/**
 * Maps one Stripe object read from a list through the same mappers as events. A deleted customer
 * and a canceled subscription are final, like a Succeeded payment. Throws `unmappable_payload`.
 */
export function mapReadObject(kind: ReadObjectKind, object: StripeObject): ReadObjectWrite {
  switch (kind) {
    case "customers": {
      const isDeleted = object.deleted === true;
      return { write: { record: mapCustomer(object, { isDeleted }), isFinal: isDeleted } };
    }
    case "subscriptions": {
      const record = mapSubscription(object, { isDeleted: false });
      return { write: { record, isFinal: record.fields.Status__c === "canceled" } };
    }
    case "payment_intents": {
      const status = paymentStatusOfObject(object);
      if (!status)
        return {
          skip: "not_written",
          detail: `payment intent in status ${String(object.status)} without a failure: not written by the contract`,
        };
      return { write: { record: mapPaymentIntent(object, { status }), isFinal: status === "Succeeded" } };
    }
    default:
      throw new PermanentSyncError("unmappable_payload", `not a Stripe object kind: ${String(kind)}`);
  }
}

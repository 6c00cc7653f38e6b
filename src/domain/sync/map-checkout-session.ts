import { z } from "zod";
import { expandable, expandableId, parsePayload } from "./map-values.js";
import { customerReference, type MappedRecord } from "./mapped-record.js";

const checkoutSessionSchema = z.object({
  id: z.string().min(1),
  subscription: expandable.nullish(),
  customer: expandable.nullish(),
});

/**
 * Maps a completed checkout session to the fields it owns on its subscription (Sync_Status__c =
 * Completed, Checkout_Session_Id__c, the customer lookup), or null when it has no subscription.
 * Throws `unmappable_payload`.
 */
export function mapCheckoutSession(payload: Record<string, unknown>): MappedRecord | null {
  const session = parsePayload(checkoutSessionSchema, payload, "checkout.session");
  const subscriptionId = expandableId(session.subscription);
  if (!subscriptionId) return null;
  const customerId = expandableId(session.customer);
  const fields: Record<string, unknown> = {
    Stripe_Subscription_Id__c: subscriptionId,
    Name: subscriptionId,
    Sync_Status__c: "Completed",
    Checkout_Session_Id__c: session.id,
  };
  if (customerId) fields.Stripe_Customer__r = customerReference(customerId);
  return {
    object: "Stripe_Subscription__c",
    externalId: subscriptionId,
    fields,
    customerId,
    source: payload,
  };
}

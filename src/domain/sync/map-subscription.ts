import { z } from "zod";
import { SUBSCRIPTION_STATUSES } from "../../salesforce-schema/objects.js";
import {
  expandable,
  expandableId,
  parsePayload,
  toDateTime,
  toMajorUnits,
  upperCurrency,
} from "./map-values.js";
import { customerReference, type MappedRecord } from "./mapped-record.js";

const priceSchema = z.object({
  id: z.string().min(1),
  product: expandable.nullish(),
  unit_amount: z.number().nullish(),
  /** A decimal string in webhooks; the SDK (v23+) turns it into a Stripe.Decimal when re-read. */
  unit_amount_decimal: z.union([z.string(), z.looseObject({})]).nullish(),
  currency: z.string().nullish(),
  recurring: z.object({ interval: z.string() }).nullish(),
});
/** Plans predate prices (API versions before 2020-08-27 only send `plan` on items). */
const planSchema = z.object({
  id: z.string().min(1),
  product: expandable.nullish(),
  amount: z.number().nullish(),
  currency: z.string().nullish(),
  interval: z.string().nullish(),
});
const itemSchema = z.object({
  price: priceSchema.nullish(),
  plan: planSchema.nullish(),
  quantity: z.number().nullish(),
  current_period_start: z.number().nullish(),
  current_period_end: z.number().nullish(),
});
const subscriptionSchema = z.object({
  id: z.string().min(1),
  customer: expandable.nullish(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  current_period_start: z.number().nullish(),
  current_period_end: z.number().nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  canceled_at: z.number().nullish(),
  ended_at: z.number().nullish(),
  trial_end: z.number().nullish(),
  items: z.object({ data: z.array(itemSchema) }).nullish(),
  currency: z.string().nullish(),
  livemode: z.boolean().nullish(),
  created: z.number().nullish(),
});
type SubscriptionItem = z.infer<typeof itemSchema>;

/** An item's unit amount in minor units: price.unit_amount, else its decimal string, else the plan's. */
function unitAmountOf(item: SubscriptionItem): number | null {
  if (item.price?.unit_amount !== null && item.price?.unit_amount !== undefined)
    return item.price.unit_amount;
  const decimal = item.price?.unit_amount_decimal;
  if (decimal !== null && decimal !== undefined) {
    const value = Number(String(decimal));
    if (Number.isFinite(value)) return value;
  }
  return item.plan?.amount ?? null;
}

/** Sum over items of unit amount x quantity, minor units; null when no item has both (metered, tiered). */
function totalMinorUnits(items: SubscriptionItem[]): number | null {
  let total: number | null = null;
  for (const item of items) {
    const unit = unitAmountOf(item);
    if (unit === null || item.quantity === null || item.quantity === undefined) continue;
    total = (total ?? 0) + unit * item.quantity;
  }
  return total;
}

/**
 * Maps a Stripe subscription to Stripe_Subscription__c, from both the newest API shape
 * (current_period_* on items.data[0]) and older pinned ones (on the subscription, e.g. 2020-08-27).
 * `isDeleted` (customer.subscription.deleted) forces Status__c to canceled. Sync_Status__c is left to
 * the caller (only new records get Pending). Throws `unmappable_payload`.
 */
export function mapSubscription(
  payload: Record<string, unknown>,
  options: { isDeleted: boolean },
): MappedRecord {
  const subscription = parsePayload(subscriptionSchema, payload, "subscription");
  const items = subscription.items?.data ?? [];
  const first = items[0];
  const price = first?.price;
  const plan = first?.plan;
  const currency = subscription.currency ?? price?.currency ?? plan?.currency ?? null;
  const customerId = expandableId(subscription.customer);
  const fields: Record<string, unknown> = {
    Stripe_Subscription_Id__c: subscription.id,
    Name: subscription.id,
    Status__c: options.isDeleted ? "canceled" : subscription.status,
    Current_Period_Start__c: toDateTime(first?.current_period_start ?? subscription.current_period_start),
    Current_Period_End__c: toDateTime(first?.current_period_end ?? subscription.current_period_end),
    Cancel_At_Period_End__c: subscription.cancel_at_period_end ?? false,
    Canceled_At__c: toDateTime(subscription.canceled_at),
    Ended_At__c: toDateTime(subscription.ended_at),
    Trial_End__c: toDateTime(subscription.trial_end),
    Price_Id__c: price?.id ?? plan?.id ?? null,
    Product_Id__c: expandableId(price?.product ?? plan?.product),
    Quantity__c: first?.quantity ?? null,
    Amount__c: toMajorUnits(totalMinorUnits(items), currency),
    Currency__c: upperCurrency(currency),
    Interval__c: price?.recurring?.interval ?? plan?.interval ?? null,
    Livemode__c: subscription.livemode ?? false,
    Stripe_Created__c: toDateTime(subscription.created),
  };
  if (customerId) fields.Stripe_Customer__r = customerReference(customerId);
  return {
    object: "Stripe_Subscription__c",
    externalId: subscription.id,
    fields,
    customerId,
    source: payload,
  };
}

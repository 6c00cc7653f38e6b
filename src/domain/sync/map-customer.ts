import { z } from "zod";
import { cutText, parsePayload, toDateTime, toMajorUnits, upperCurrency } from "./map-values.js";
import type { MappedRecord } from "./mapped-record.js";

const customerSchema = z.object({
  id: z.string().min(1),
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone: z.string().nullish(),
  description: z.string().nullish(),
  currency: z.string().nullish(),
  balance: z.number().nullish(),
  delinquent: z.boolean().nullish(),
  livemode: z.boolean().nullish(),
  created: z.number().nullish(),
});

/**
 * Maps a Stripe customer to Stripe_Customer__c. Keys missing from a partial object (a deleted
 * customer as `{ id, deleted: true }`) are left out rather than cleared. Throws `unmappable_payload`.
 */
export function mapCustomer(payload: Record<string, unknown>, options: { isDeleted: boolean }): MappedRecord {
  const customer = parsePayload(customerSchema, payload, "customer");
  const has = (key: string) => Object.hasOwn(payload, key);
  const fields: Record<string, unknown> = { Stripe_Customer_Id__c: customer.id };
  if (customer.name || customer.email || has("name") || has("email")) {
    fields.Name = cutText(customer.name || customer.email || customer.id, 80);
  }
  if (has("email")) fields.Email__c = customer.email ?? null;
  if (has("phone")) fields.Phone__c = customer.phone ?? null;
  if (has("description")) fields.Description__c = cutText(customer.description, 255);
  if (has("currency")) fields.Currency__c = upperCurrency(customer.currency);
  if (has("balance")) fields.Balance__c = toMajorUnits(customer.balance, customer.currency);
  if (has("delinquent")) fields.Delinquent__c = customer.delinquent ?? false;
  if (has("livemode")) fields.Livemode__c = customer.livemode ?? false;
  if (has("created")) fields.Stripe_Created__c = toDateTime(customer.created);
  fields.Deleted__c = options.isDeleted;
  return { object: "Stripe_Customer__c", externalId: customer.id, fields, customerId: null, source: payload };
}

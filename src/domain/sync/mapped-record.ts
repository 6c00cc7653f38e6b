import type { SalesforceRecord } from "./salesforce-port.js";

/** The three objects of the default org contract, by their default API names. */
export type DefaultObjectName = "Stripe_Customer__c" | "Stripe_Subscription__c" | "Payment_Transaction__c";

/** One record a mapper produced, in the default names (the mapping renames at the end). */
export interface MappedRecord {
  object: DefaultObjectName;
  /** The Stripe id held in the object's External ID field. */
  externalId: string;
  /** Field API names (default mapping) to values, External ID field included. */
  fields: SalesforceRecord;
  /** The customer the record links to through `Stripe_Customer__r`, if any. */
  customerId: string | null;
  /** The Stripe object the record was mapped from, for `add` paths of a mapping override. */
  source: Record<string, unknown>;
}

/** The External ID field of each default object. */
export const EXTERNAL_ID_FIELD: Record<DefaultObjectName, string> = {
  Stripe_Customer__c: "Stripe_Customer_Id__c",
  Stripe_Subscription__c: "Stripe_Subscription_Id__c",
  Payment_Transaction__c: "Stripe_Payment_Intent_Id__c",
};

/** The lookup value linking a child to its parent customer by the parent's External ID. */
export function customerReference(customerId: string): { Stripe_Customer_Id__c: string } {
  return { Stripe_Customer_Id__c: customerId };
}

/**
 * The Salesforce org contract (../shared/salesforce-schema.md) as data: the one definition that
 * the default mapping, the local Salesforce emulator and the generated DX metadata all read.
 */

/** A field type, spelled as Salesforce metadata spells it. */
export type FieldType =
  "Text" | "Email" | "Phone" | "Number" | "Checkbox" | "DateTime" | "Picklist" | "Lookup";

/** One field of a custom object. */
export interface FieldDefinition {
  /** API name, e.g. `Email__c`; `Name` is the standard name field. */
  name: string;
  /** Human label for metadata and describe. */
  label: string;
  type: FieldType;
  /** Text length (Text, Phone, Email: 80 for Email in metadata is not used; Salesforce fixes it). */
  length?: number;
  /** Number precision and scale. */
  precision?: number;
  scale?: number;
  /** True for the unique, case-sensitive External ID holding the Stripe id. */
  isExternalId?: boolean;
  /** Restricted picklist values. */
  picklistValues?: readonly string[];
  /** Lookup target object and the relationship name used for `__r` references. */
  referenceTo?: string;
  relationshipName?: string;
}

/** One custom object with its External ID field. */
export interface ObjectDefinition {
  name: string;
  label: string;
  pluralLabel: string;
  externalIdField: string;
  fields: readonly FieldDefinition[];
}

const text = (name: string, label: string, length = 255): FieldDefinition => ({
  name,
  label,
  type: "Text",
  length,
});
const amount = (name: string, label: string): FieldDefinition => ({
  name,
  label,
  type: "Number",
  precision: 16,
  scale: 3,
});
const checkbox = (name: string, label: string): FieldDefinition => ({ name, label, type: "Checkbox" });
const dateTime = (name: string, label: string): FieldDefinition => ({ name, label, type: "DateTime" });
const externalId = (name: string, label: string): FieldDefinition => ({
  name,
  label,
  type: "Text",
  length: 255,
  isExternalId: true,
});
const customerLookup: FieldDefinition = {
  name: "Stripe_Customer__c",
  label: "Stripe Customer",
  type: "Lookup",
  referenceTo: "Stripe_Customer__c",
  relationshipName: "Stripe_Customer__r",
};
const eventTracking: FieldDefinition[] = [
  text("Last_Stripe_Event_Id__c", "Last Stripe Event Id"),
  dateTime("Last_Stripe_Event_At__c", "Last Stripe Event At"),
];
/** The event's `account` (Connect): written only for events that carry one. */
const stripeAccountId: FieldDefinition = text("Stripe_Account_Id__c", "Stripe Account Id");

/** Subscription statuses, as Stripe spells them. */
export const SUBSCRIPTION_STATUSES = [
  "incomplete",
  "incomplete_expired",
  "trialing",
  "active",
  "past_due",
  "canceled",
  "unpaid",
  "paused",
] as const;

/** Stripe_Customer__c: one record per Stripe customer. */
export const STRIPE_CUSTOMER: ObjectDefinition = {
  name: "Stripe_Customer__c",
  label: "Stripe Customer",
  pluralLabel: "Stripe Customers",
  externalIdField: "Stripe_Customer_Id__c",
  fields: [
    externalId("Stripe_Customer_Id__c", "Stripe Customer Id"),
    text("Name", "Name", 80),
    { name: "Email__c", label: "Email", type: "Email" },
    { name: "Phone__c", label: "Phone", type: "Phone" },
    text("Description__c", "Description"),
    text("Currency__c", "Currency", 3),
    amount("Balance__c", "Balance"),
    checkbox("Delinquent__c", "Delinquent"),
    checkbox("Livemode__c", "Livemode"),
    dateTime("Stripe_Created__c", "Stripe Created"),
    checkbox("Deleted__c", "Deleted"),
    ...eventTracking,
    stripeAccountId,
  ],
};

/** Stripe_Subscription__c: one record per Stripe subscription, linked to its customer. */
export const STRIPE_SUBSCRIPTION: ObjectDefinition = {
  name: "Stripe_Subscription__c",
  label: "Stripe Subscription",
  pluralLabel: "Stripe Subscriptions",
  externalIdField: "Stripe_Subscription_Id__c",
  fields: [
    externalId("Stripe_Subscription_Id__c", "Stripe Subscription Id"),
    text("Name", "Name", 80),
    customerLookup,
    { name: "Status__c", label: "Status", type: "Picklist", picklistValues: SUBSCRIPTION_STATUSES },
    dateTime("Current_Period_Start__c", "Current Period Start"),
    dateTime("Current_Period_End__c", "Current Period End"),
    checkbox("Cancel_At_Period_End__c", "Cancel At Period End"),
    dateTime("Canceled_At__c", "Canceled At"),
    dateTime("Ended_At__c", "Ended At"),
    dateTime("Trial_End__c", "Trial End"),
    text("Price_Id__c", "Price Id"),
    text("Product_Id__c", "Product Id"),
    { name: "Quantity__c", label: "Quantity", type: "Number", precision: 18, scale: 0 },
    amount("Amount__c", "Amount"),
    text("Currency__c", "Currency", 3),
    text("Interval__c", "Interval", 20),
    {
      name: "Sync_Status__c",
      label: "Sync Status",
      type: "Picklist",
      picklistValues: ["Pending", "Completed"],
    },
    text("Checkout_Session_Id__c", "Checkout Session Id"),
    checkbox("Livemode__c", "Livemode"),
    dateTime("Stripe_Created__c", "Stripe Created"),
    ...eventTracking,
    stripeAccountId,
  ],
};

/** Payment_Transaction__c: one record per Stripe payment intent, linked to its customer when it has one. */
export const PAYMENT_TRANSACTION: ObjectDefinition = {
  name: "Payment_Transaction__c",
  label: "Payment Transaction",
  pluralLabel: "Payment Transactions",
  externalIdField: "Stripe_Payment_Intent_Id__c",
  fields: [
    externalId("Stripe_Payment_Intent_Id__c", "Stripe Payment Intent Id"),
    text("Name", "Name", 80),
    customerLookup,
    amount("Amount__c", "Amount"),
    amount("Amount_Received__c", "Amount Received"),
    text("Currency__c", "Currency", 3),
    { name: "Status__c", label: "Status", type: "Picklist", picklistValues: ["Succeeded", "Failed"] },
    text("Failure_Code__c", "Failure Code"),
    text("Failure_Message__c", "Failure Message"),
    text("Payment_Method_Type__c", "Payment Method Type", 50),
    text("Description__c", "Description"),
    { name: "Receipt_Email__c", label: "Receipt Email", type: "Email" },
    checkbox("Livemode__c", "Livemode"),
    dateTime("Stripe_Created__c", "Stripe Created"),
    ...eventTracking,
    stripeAccountId,
  ],
};

/** The three objects of the default org, parents first. */
export const SALESFORCE_OBJECTS: readonly ObjectDefinition[] = [
  STRIPE_CUSTOMER,
  STRIPE_SUBSCRIPTION,
  PAYMENT_TRANSACTION,
];

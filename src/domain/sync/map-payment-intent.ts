import { z } from "zod";
import {
  cutText,
  expandable,
  expandableId,
  parsePayload,
  toDateTime,
  toMajorUnits,
  upperCurrency,
} from "./map-values.js";
import { customerReference, type MappedRecord } from "./mapped-record.js";

/** Payment_Transaction__c.Status__c values. */
export type PaymentStatus = "Succeeded" | "Failed";

const paymentIntentSchema = z.object({
  id: z.string().min(1),
  customer: expandable.nullish(),
  amount: z.number().nullish(),
  amount_received: z.number().nullish(),
  currency: z.string().nullish(),
  status: z.string().nullish(),
  last_payment_error: z
    .object({
      code: z.string().nullish(),
      decline_code: z.string().nullish(),
      message: z.string().nullish(),
      payment_method: z.union([z.string(), z.looseObject({ type: z.string().nullish() })]).nullish(),
    })
    .nullish(),
  payment_method_types: z.array(z.string()).nullish(),
  description: z.string().nullish(),
  receipt_email: z.string().nullish(),
  livemode: z.boolean().nullish(),
  created: z.number().nullish(),
});

/** The status the event type means; a payment intent already `succeeded` (re-read) is Succeeded. */
export function paymentStatusOf(eventType: string, payload: Record<string, unknown>): PaymentStatus {
  if (payload.status === "succeeded") return "Succeeded";
  return eventType === "payment_intent.succeeded" ? "Succeeded" : "Failed";
}

/** Maps a Stripe payment intent to Payment_Transaction__c with the given status. Throws `unmappable_payload`. */
export function mapPaymentIntent(
  payload: Record<string, unknown>,
  options: { status: PaymentStatus },
): MappedRecord {
  const intent = parsePayload(paymentIntentSchema, payload, "payment_intent");
  const error = intent.last_payment_error;
  const errorMethod = error?.payment_method;
  const errorMethodType = typeof errorMethod === "object" && errorMethod !== null ? errorMethod.type : null;
  const customerId = expandableId(intent.customer);
  const fields: Record<string, unknown> = {
    Stripe_Payment_Intent_Id__c: intent.id,
    Name: intent.id,
    Amount__c: toMajorUnits(intent.amount, intent.currency),
    Amount_Received__c: toMajorUnits(intent.amount_received, intent.currency),
    Currency__c: upperCurrency(intent.currency),
    Status__c: options.status,
    Failure_Code__c: error?.code ?? error?.decline_code ?? null,
    Failure_Message__c: cutText(error?.message, 255),
    Payment_Method_Type__c: cutText(errorMethodType ?? intent.payment_method_types?.[0] ?? null, 50),
    Description__c: cutText(intent.description, 255),
    Receipt_Email__c: intent.receipt_email ?? null,
    Livemode__c: intent.livemode ?? false,
    Stripe_Created__c: toDateTime(intent.created),
  };
  if (customerId) fields.Stripe_Customer__r = customerReference(customerId);
  return { object: "Payment_Transaction__c", externalId: intent.id, fields, customerId, source: payload };
}

import type { SalesforceRecord, UpsertRecordResult } from "./salesforce-port.js";
import type { FailureOutcome } from "./event-outcome.js";

/** Stripe ids are not personal data and make a reason traceable; they are left in. */
const STRIPE_ID = /^(acct|cus|sub|pi|evt|cs|price|prod|in|ch|pm|si)_[A-Za-z0-9_]+$/;
const EMAIL = /[^\s@'"<>()[\],;:]+@[^\s@'"<>()[\],;:]+\.[A-Za-z]{2,}/g;

/**
 * Salesforce's error text without the personal data it may quote: every text value of the record
 * sent (names, emails, phone numbers, descriptions) and anything shaped like an email address.
 * Dead-letter attributes and logs carry the code, the fields and this text, never the values.
 */
export function redactRecordValues(message: string, record: SalesforceRecord | undefined): string {
  let text = message;
  const values = Object.values(record ?? {})
    .filter(
      (value): value is string => typeof value === "string" && value.length >= 3 && !STRIPE_ID.test(value),
    )
    .sort((a, b) => b.length - a.length);
  for (const value of values) text = text.split(value).join("[redacted]");
  return text.replace(EMAIL, "[email]");
}

/** The failure of one record in a collections answer: retried when Salesforce says it may pass. */
export function failureOfRecord(
  result: UpsertRecordResult | undefined,
  record?: SalesforceRecord,
): FailureOutcome {
  const error = result?.errors[0];
  const code = error?.statusCode ?? "UNKNOWN_ERROR";
  if (!result || result.isRetryable) return { status: "retry", reason: code, scope: "record" };
  const fields = error?.fields.length ? ` (fields: ${error.fields.join(", ")})` : "";
  const message = redactRecordValues(error?.message ?? "Salesforce gave no reason", record);
  return { status: "dead-letter", reason: code, detail: `${code}: ${message}${fields}` };
}

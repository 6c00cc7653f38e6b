import { z } from "zod";
import { PermanentSyncError } from "../../shared/errors.js";

/** Stripe's zero-decimal currencies: https://docs.stripe.com/currencies#zero-decimal */
const ZERO_DECIMAL = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);
/** Stripe's three-decimal currencies: https://docs.stripe.com/currencies#three-decimal */
const THREE_DECIMAL = new Set(["BHD", "JOD", "KWD", "OMR", "TND"]);

/** Decimal places of `currency`'s major unit: 0, 3, or 2 for every other currency (and for none). */
export function currencyExponent(currency: string | null | undefined): number {
  const code = (currency ?? "").toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/**
 * Converts an amount in the currency's smallest unit to major units: 1999 USD -> 19.99,
 * 5000 JPY -> 5000, 1234 KWD -> 1.234. A single IEEE division by a power of ten is correctly
 * rounded, so the result is the same double as the decimal literal (never 19.990000000000002).
 */
export function toMajorUnits(amount: number, currency: string | null | undefined): number;
export function toMajorUnits(
  amount: number | null | undefined,
  currency: string | null | undefined,
): number | null;
export function toMajorUnits(
  amount: number | null | undefined,
  currency: string | null | undefined,
): number | null {
  if (amount === null || amount === undefined) return null;
  const exponent = currencyExponent(currency);
  if (Number.isInteger(amount)) return amount / 10 ** exponent;
  // Fractional minor units (unit_amount_decimal): keep the 3 decimals Number(16,3) can hold.
  return Math.round((amount / 10 ** exponent) * 1000) / 1000;
}

/** Unix seconds to an ISO 8601 UTC DateTime; null and undefined stay null. */
export function toDateTime(seconds: number | null | undefined): string | null {
  if (seconds === null || seconds === undefined) return null;
  return new Date(seconds * 1000).toISOString();
}

/**
 * Cuts `text` to `length` characters as Salesforce counts them: UTF-16 code units, so an emoji
 * counts as two. A surrogate pair cut in half is dropped rather than sent broken.
 */
export function cutText(text: string, length: number): string;
export function cutText(text: string | null | undefined, length: number): string | null;
export function cutText(text: string | null | undefined, length: number): string | null {
  if (text === null || text === undefined) return null;
  if (text.length <= length) return text;
  const cut = text.slice(0, length);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Upper-cases a currency code; null stays null. */
export function upperCurrency(currency: string | null | undefined): string | null {
  return currency ? currency.toUpperCase() : null;
}

/** An expandable Stripe field: an id string or the expanded object with its `id`. */
export const expandable = z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]);

/** The id of an expandable field, whether Stripe sent the id or the expanded object. */
export function expandableId(value: z.infer<typeof expandable> | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : value.id;
}

/** Reads a dotted path (`metadata.crm_account`) from a Stripe object; undefined when absent. */
export function readPath(source: unknown, path: string): unknown {
  let current: unknown = source;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Parses `payload` with `schema` or throws PermanentSyncError `unmappable_payload` naming the bad paths. */
export function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "(object)"}: ${issue.message}`,
  );
  throw new PermanentSyncError("unmappable_payload", `cannot map ${what}: ${issues.join("; ")}`);
}

/**
 * Sets `record[field]` only when the source key was present: an explicit null clears the field,
 * an absent key (a partial object, an older API version) leaves the Salesforce value alone.
 */
export function setIfPresent(
  record: Record<string, unknown>,
  field: string,
  isPresent: boolean,
  value: unknown,
): void {
  if (isPresent) record[field] = value;
}

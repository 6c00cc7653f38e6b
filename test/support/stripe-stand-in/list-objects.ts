import { invalidParameter, resourceMissing, StripeApiError } from "./stripe-api-error.js";
import type { StripeObject } from "./stripe-store.js";

/** Query parameters as the Stripe SDK encodes them (`created[gte]=1`, `types[0]=a`), read back into objects. */
export type StripeParams = Record<string, unknown>;

/** Stripe's list envelope. */
export interface StripeList {
  object: "list";
  url: string;
  has_more: boolean;
  data: StripeObject[];
}

/** Reads `a[b]=1&c[]=x&c[1]=y` into `{ a: { b: "1" }, c: ["x", "y"] }`. */
export function parseStripeQuery(search: URLSearchParams): StripeParams {
  const params: StripeParams = {};
  for (const [key, value] of search) {
    const [, name = key, inner] = key.match(/^([^[]+)\[([^\]]*)\]$/) ?? [];
    if (inner === undefined) params[name] = value;
    else if (inner === "" || /^\d+$/.test(inner)) ((params[name] ??= []) as string[]).push(value);
    else ((params[name] ??= {}) as Record<string, string>)[inner] = value;
  }
  return params;
}

/** Keeps objects whose `created` satisfies `created=ts` or `created[gt|gte|lt|lte]`. */
export function filterCreated(items: StripeObject[], created: unknown): StripeObject[] {
  if (created === undefined) return items;
  const bounds: Record<string, string> =
    typeof created === "object" ? (created as Record<string, string>) : { eq: String(created) };
  const tests: Record<string, (value: number, bound: number) => boolean> = {
    eq: (v, b) => v === b,
    gt: (v, b) => v > b,
    gte: (v, b) => v >= b,
    lt: (v, b) => v < b,
    lte: (v, b) => v <= b,
  };
  for (const [op, raw] of Object.entries(bounds)) {
    if (!tests[op] || !/^\d+$/.test(raw))
      throw invalidParameter(`created[${op}]`, `Invalid timestamp: ${raw}`);
  }
  return items.filter((item) =>
    Object.entries(bounds).every(([op, raw]) => tests[op]?.(item.created ?? 0, Number(raw)) ?? false),
  );
}

function readLimit(raw: unknown): number {
  if (raw === undefined) return 10;
  const limit = Number(raw);
  if (!Number.isInteger(limit)) throw invalidParameter("limit", `Invalid integer: ${String(raw)}`);
  if (limit < 1) throw invalidParameter("limit", "This value must be greater than or equal to 1.");
  if (limit > 100) throw invalidParameter("limit", "This value must be less than or equal to 100.");
  return limit;
}

/**
 * One page of `items` (newest first) as Stripe pages lists: `limit` (1-100, default 10); `starting_after`
 * gives the next older objects; `ending_before` gives the `limit` objects just newer than the cursor, still
 * newest first, with `has_more` telling whether even newer ones remain.
 */
export function listPage(
  items: StripeObject[],
  params: StripeParams,
  url: string,
  kind: string,
  allItems: StripeObject[],
): StripeList {
  const limit = readLimit(params.limit);
  const { starting_after: after, ending_before: before } = params;
  if (after !== undefined && before !== undefined) {
    throw new StripeApiError(400, {
      type: "invalid_request_error",
      message: "You may only specify one of these parameters: ending_before, starting_after.",
    });
  }
  const cursor = (after ?? before) as string | undefined;
  // Where the cursor sits among `items`: the number of listed objects newer than it.
  let boundary = 0;
  if (cursor !== undefined) {
    const position = allItems.findIndex((item) => item.id === cursor);
    if (position < 0)
      throw resourceMissing(kind, cursor, after !== undefined ? "starting_after" : "ending_before");
    const rank = new Map(allItems.map((item, i) => [item.id, i]));
    boundary = items.filter((item) => (rank.get(item.id) ?? 0) < position).length;
  }
  if (before !== undefined) {
    const start = Math.max(0, boundary - limit);
    return { object: "list", url, has_more: start > 0, data: items.slice(start, boundary) };
  }
  const start = cursor === undefined ? 0 : boundary + (items[boundary]?.id === cursor ? 1 : 0);
  return {
    object: "list",
    url,
    has_more: start + limit < items.length,
    data: items.slice(start, start + limit),
  };
}

import type { StripeLists } from "../data-access/stripe/stripe-lists.js";
import { READ_OBJECT_KINDS, type ReadObjectKind } from "../domain/sync/map-read-object.js";
import type { ReadObject } from "../domain/sync/sync-objects.js";
import { InvalidArgumentError } from "commander";

/** Where a listing stopped: the last object handed out, newest first. */
export interface ListCursor {
  id: string;
  created: number;
}

/** One page of Stripe objects read without an event, and where the listing stands after it. */
export interface ObjectPage {
  objects: ReadObject[];
  cursor: ListCursor;
}

/** Parses `--objects customers,subscriptions,payment_intents`, answering them parents first. */
export function objectKinds(value: string): ReadObjectKind[] {
  const wanted = value.split(",").map((kind) => kind.trim());
  const unknown = wanted.filter((kind) => !(READ_OBJECT_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `unknown object kind ${unknown.join(", ")} (use ${READ_OBJECT_KINDS.join(", ")})`,
    );
  return READ_OBJECT_KINDS.filter((kind) => wanted.includes(kind));
}

/**
 * Stripe's objects of one kind, a page of 100 at a time, newest first, from `after` on (a resumed
 * run): subscriptions with `status=all`, so canceled ones come too; `since` filters on `created`.
 * When the cursor object is gone (a deleted customer), the listing goes on from its `created`.
 */
export async function* stripeObjectPages(
  stripe: StripeLists,
  kind: ReadObjectKind,
  options: { since?: number; after?: ListCursor; signal: AbortSignal },
): AsyncGenerator<ObjectPage> {
  const base: Record<string, unknown> = {
    limit: 100,
    ...(kind === "subscriptions" ? { status: "all" } : {}),
    ...(options.since === undefined ? {} : { created: { gte: options.since } }),
  };
  let cursor = options.after;
  let params: Record<string, unknown> = cursor ? { ...base, starting_after: cursor.id } : base;
  while (!options.signal.aborted) {
    let page;
    try {
      page = await stripe.page(kind, params);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404 || !cursor) throw error;
      const created = { ...(base.created as object | undefined), lte: cursor.created };
      params = { ...base, created };
      page = await stripe.page(kind, params);
    }
    const last = page.data.at(-1);
    if (last) {
      cursor = { id: last.id as string, created: Number(last.created ?? 0) };
      yield { objects: page.data.map((object) => ({ kind, object, readAt: page.readAt })), cursor };
    }
    if (!page.hasMore || !last) return;
    params = { ...base, starting_after: cursor?.id };
  }
}

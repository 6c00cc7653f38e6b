import type { StripeEvent } from "../stripe-event.js";

/**
 * Thin events (https://docs.stripe.com/api/v2/core/events): an event destination with
 * `event_payload: thin` sends only ids (`object: "v2.core.event"`, `related_object`, an ISO
 * `created`, `context` for a connected account); the object itself must be read from the API.
 */

/** The `object` of a thin event notification. */
export const THIN_EVENT_OBJECT = "v2.core.event";

/** True for a thin event notification (what the Stripe SDK parses with `parseEventNotificationWithoutVerification`). */
export function isThinEvent(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>).object === THIN_EVENT_OBJECT
  );
}

/** The snapshot type a thin event of a v1 resource stands for (`v1.customer.updated` -> `customer.updated`); others stay as they are. */
export function snapshotTypeOf(thinType: string): string {
  return thinType.startsWith("v1.") ? thinType.slice(3) : thinType;
}

/** The connected account of a thin event's `context` (`acct_...`, possibly after other segments), if any. */
export function accountOfContext(context: unknown): string | undefined {
  if (typeof context !== "string") return undefined;
  const last = context.split("/").at(-1);
  return last?.startsWith("acct_") ? last : undefined;
}

/**
 * A thin event as an event the sync completes like a slimmed one: `type` is the snapshot type it
 * stands for, `data.object` holds only the related object's `id` and `object` (read from Stripe
 * before syncing), `account` comes from `context`, and `created` is in seconds. The id is the
 * snapshot event's (`snapshot_event`) when Stripe names one, so one change is applied once
 * whether it came thin, as a snapshot, or both. A thin event without `related_object` keeps an
 * empty `data.object`: nothing can be read for it.
 */
export function eventOfThin(value: Record<string, unknown>): { event: StripeEvent } | { problem: string } {
  const id =
    typeof value.snapshot_event === "string" && value.snapshot_event ? value.snapshot_event : value.id;
  const created = typeof value.created === "string" ? Date.parse(value.created) : Number.NaN;
  if (typeof id !== "string" || id === "" || typeof value.type !== "string" || !Number.isFinite(created))
    return { problem: "a thin event needs id, type and an ISO 8601 created" };
  const related = value.related_object as { id?: unknown; type?: unknown } | null | undefined;
  const account = accountOfContext(value.context);
  return {
    event: {
      id,
      object: "event",
      type: snapshotTypeOf(value.type),
      created: Math.floor(created / 1000),
      livemode: value.livemode === true,
      ...(account ? { account } : {}),
      data: {
        object: related && typeof related.id === "string" ? { id: related.id, object: related.type } : {},
      },
    },
  };
}

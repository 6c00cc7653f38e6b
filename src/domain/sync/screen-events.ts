import { isStripeEvent } from "../stripe-event.js";
import type { Outcomes, SyncItem } from "./sync-item.js";
import type { SyncStore } from "./sync-store-port.js";

/** What screening left to sync, and what it already decided. */
export interface Screened {
  /** Positions of the events still to sync (first delivery of each id in the batch, not applied). */
  candidates: number[];
  outcomes: Outcomes;
}

/**
 * Drops what needs no Salesforce call: bodies that are not events (dead-lettered), repeats of an
 * event id within the batch, and events the store remembers as applied (duplicates).
 */
export async function screenEvents(items: readonly SyncItem[], store: SyncStore): Promise<Screened> {
  const outcomes: Outcomes = new Map();
  const firstOf = new Map<string, number>();
  items.forEach(({ event }, i) => {
    if (!isStripeEvent(event)) {
      outcomes.set(i, {
        status: "dead-letter",
        reason: "unmappable_payload",
        detail: "not a Stripe event envelope",
      });
    } else if (firstOf.has(event.id)) outcomes.set(i, { status: "duplicate" });
    else firstOf.set(event.id, i);
  });
  const applied = await store.findAppliedEvents([...firstOf.keys()]);
  const candidates: number[] = [];
  for (const [id, i] of firstOf) {
    if (applied.has(id)) outcomes.set(i, { status: "duplicate" });
    else candidates.push(i);
  }
  return { candidates, outcomes };
}

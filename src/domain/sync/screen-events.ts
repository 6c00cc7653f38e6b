import { isStripeEvent } from "../stripe-event.js";
import type { Outcomes, SyncItem } from "./sync-item.js";
import type { SyncStore } from "./sync-store-port.js";

/**
 * Which Stripe mode's events a deployment writes (config STRIPE_EVENT_MODE): `both` (the default),
 * or only `live` or only `test` events; the other mode's are acknowledged, counted and not written.
 */
export type AcceptedMode = "both" | "live" | "test";

/** True when an event of `livemode` is one this deployment writes. */
export function isAcceptedMode(livemode: unknown, accepted: AcceptedMode): boolean {
  return accepted === "both" || (livemode === true) === (accepted === "live");
}

/** What screening left to sync, and what it already decided. */
export interface Screened {
  /** Positions of the events still to sync (first delivery of each id in the batch, not applied). */
  candidates: number[];
  outcomes: Outcomes;
}

/**
 * Drops what needs no Salesforce call: bodies that are not events (dead-lettered), events of the
 * mode this deployment does not write (ignored, `other_mode`), repeats of an event id within the
 * batch, and events the store remembers as applied (duplicates).
 */
export async function screenEvents(
  items: readonly SyncItem[],
  store: SyncStore,
  accepted: AcceptedMode = "both",
): Promise<Screened> {
  const outcomes: Outcomes = new Map();
  const firstOf = new Map<string, number>();
  items.forEach(({ event }, i) => {
    if (!isStripeEvent(event)) {
      outcomes.set(i, {
        status: "dead-letter",
        reason: "unmappable_payload",
        detail: "not a Stripe event envelope",
      });
    } else if (!isAcceptedMode(event.livemode, accepted)) {
      outcomes.set(i, { status: "ignored", reason: "other_mode" });
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

import type { EventStamp, RecordState, RecordUpdate } from "./sync-store-port.js";

/**
 * The one home of the contract's ordering rules ("Newest wins" and "The org is the truth").
 * The Redis store's commit script repeats `mergeRecordState` in Lua, so that a commit is atomic;
 * test/sync/ordering-cases.ts runs one table of cases against this module and both stores.
 */

/** What an event may do to a record. */
export type Verdict = "apply" | "stale" | "duplicate";

/** The part of a record's state the ordering reads. */
export interface OrderingState {
  isFinal: boolean;
  last?: EventStamp | undefined;
}

/** An event about to be applied to a record. */
export interface IncomingEvent extends EventStamp {
  /** The event puts the record in a final state (deleted customer or subscription, Succeeded payment). */
  isFinal: boolean;
}

/**
 * Judges an event against what the record holds: the event already in Last_Stripe_Event_Id__c is
 * a duplicate; a final state is taken back by no non-final event, and a final event overrides a
 * non-final state whatever its time; otherwise an event older than Last_Stripe_Event_At__c is
 * stale and one of the same second or newer applies (same-second events: in delivery order).
 */
export function judgeEvent(state: OrderingState | undefined, incoming: IncomingEvent): Verdict {
  if (state?.last?.eventId === incoming.eventId) return "duplicate";
  if (!state) return "apply";
  if (state.isFinal && !incoming.isFinal) return "stale";
  if (incoming.isFinal && !state.isFinal) return "apply";
  if (state.last && incoming.created < state.last.created) return "stale";
  return "apply";
}

/** True when `incoming` takes the place of `current` as the event a batch writes to one record. */
export function supersedes(current: IncomingEvent, incoming: IncomingEvent): boolean {
  return judgeEvent({ isFinal: current.isFinal, last: current }, incoming) === "apply";
}

/** Merges `update` into `state` with the rules above; the store's commit applies exactly this. */
export function mergeRecordState(state: RecordState | undefined, update: RecordUpdate): RecordState {
  const merged: RecordState = { ...(state ?? { exists: false, isFinal: false }), exists: true };
  if (update.last) {
    const incoming = { ...update.last, isFinal: update.isFinal === true };
    if (judgeEvent(state, incoming) === "apply") merged.last = update.last;
  }
  if (update.isFinal) merged.isFinal = true;
  if (update.completedBy !== undefined) merged.completedBy = update.completedBy;
  return merged;
}

import type { SalesforceRecord } from "../../data-access/salesforce/salesforce-writer.js";
import type { EventStamp, RecordState } from "../../data-access/store/sync-store.js";
import { recordKey } from "../../data-access/store/sync-store.js";
import type { StripeEvent } from "../stripe-event.js";
import { toDateTime } from "./map-values.js";
import type { DefaultObjectName } from "./mapped-record.js";
import type { EventHandler, MappedWrite } from "./route-event.js";

/** One routed, mapped event of a batch. */
export interface Intent {
  /** Position in the batch (delivery order). */
  index: number;
  event: StripeEvent;
  handler: EventHandler;
  write: MappedWrite;
}

/** Everything a batch does to one record. */
export interface RecordPlan {
  key: string;
  object: DefaultObjectName;
  externalId: string;
  /** The record's state before the batch (undefined: never written). */
  state: RecordState | undefined;
  /** The newest accepted event owning the record's fields, if any. */
  main?: Intent;
  /** Accepted against the store but overtaken by a newer event of the batch: share `main`'s fate. */
  superseded: Intent[];
  /** checkout.session.completed events for the record: always written, never stale. */
  checkouts: Intent[];
  /** Older than what the record already has: nothing to write. */
  stale: Intent[];
}

/** The ordering position of a record's fields. */
export interface OrderingState {
  applied?: EventStamp | undefined;
  isFinal: boolean;
}

/**
 * Newest wins: an event is applied unless it is older than the last applied one. Equal seconds
 * apply in delivery order. A final state (deleted, Succeeded) is taken back by no non-final event,
 * whatever its time, and always overrides a non-final one.
 */
export function isAccepted(current: OrderingState, incoming: { created: number; isFinal: boolean }): boolean {
  if (current.isFinal && !incoming.isFinal) return false;
  if (incoming.isFinal && !current.isFinal) return true;
  return current.applied === undefined || incoming.created >= current.applied.created;
}

/** The stamp of an intent's event. */
export function stampOf(intent: Intent): EventStamp {
  return { created: intent.event.created, eventId: intent.event.id };
}

/** Groups a batch's intents by record and decides, per record, what is written and what is stale. */
export function planRecords(
  intents: readonly Intent[],
  states: ReadonlyMap<string, RecordState>,
): Map<string, RecordPlan> {
  const plans = new Map<string, RecordPlan>();
  for (const intent of intents) {
    const { object, externalId } = intent.write.record;
    const key = recordKey(object, externalId);
    let plan = plans.get(key);
    if (!plan) {
      plan = { key, object, externalId, state: states.get(key), superseded: [], checkouts: [], stale: [] };
      plans.set(key, plan);
    }
    if (intent.handler.channel === "checkout") {
      plan.checkouts.push(intent);
      continue;
    }
    const incoming = { created: intent.event.created, isFinal: intent.write.isFinal };
    if (!isAccepted({ applied: plan.state?.applied, isFinal: plan.state?.isFinal ?? false }, incoming)) {
      plan.stale.push(intent);
    } else if (!plan.main) {
      plan.main = intent;
    } else if (isAccepted({ applied: stampOf(plan.main), isFinal: plan.main.write.isFinal }, incoming)) {
      plan.superseded.push(plan.main);
      plan.main = intent;
    } else {
      plan.superseded.push(intent);
    }
  }
  return plans;
}

/** The record a plan writes, in default names, and the Last_Stripe_Event_* stamp it carries. */
export interface ComposedRecord {
  fields: SalesforceRecord;
  /** The Stripe object for a mapping's added fields (the main event's; none for checkout-only). */
  source: Record<string, unknown> | undefined;
  /** Set when the record's Last_Stripe_Event_* fields move to this event. */
  stamp: EventStamp | undefined;
}

/**
 * Merges a plan's main event and checkout events into one record (one record per External ID per
 * call). New subscriptions get Sync_Status__c = Pending unless a checkout completes them; existing
 * ones never get Sync_Status__c from a subscription event, so Completed is never taken back.
 * Last_Stripe_Event_* only move forward.
 */
export function composeRecord(plan: RecordPlan): ComposedRecord | undefined {
  const parts = [...(plan.main ? [plan.main] : []), ...plan.checkouts];
  if (parts.length === 0) return undefined;
  const fields: SalesforceRecord = { ...(plan.main?.write.record.fields ?? {}) };
  for (const checkout of plan.checkouts) Object.assign(fields, checkout.write.record.fields);
  if (plan.object === "Stripe_Subscription__c" && !plan.state?.isWritten && plan.checkouts.length === 0) {
    fields.Sync_Status__c = "Pending";
  }
  let newest = parts[0] as Intent;
  for (const part of parts) {
    const isNewer =
      part.event.created > newest.event.created ||
      (part.event.created === newest.event.created && part.index > newest.index);
    if (isNewer) newest = part;
  }
  let stamp: EventStamp | undefined;
  if (!plan.state?.stamp || newest.event.created >= plan.state.stamp.created) {
    stamp = stampOf(newest);
    fields.Last_Stripe_Event_Id__c = stamp.eventId;
    fields.Last_Stripe_Event_At__c = toDateTime(stamp.created);
  }
  return { fields, source: plan.main?.write.record.source, stamp };
}

import { accountOf, type StripeEvent } from "../stripe-event.js";
import type { EventHandler, MappedWrite } from "./event-handlers.js";
import { toDateTime } from "./map-values.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { judgeEvent, supersedes, type IncomingEvent } from "./ordering.js";
import type { SalesforceRecord } from "./salesforce-port.js";
import { recordKey, type EventStamp, type RecordState, type RecordUpdate } from "./sync-store-port.js";

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
  /** The record's state before the batch (undefined: the org does not have it, as far as is known). */
  state: RecordState | undefined;
  /** The newest applicable event owning the record's fields, if any. */
  main?: Intent;
  /** Applicable but overtaken by a newer event of the batch: they share `main`'s fate. */
  superseded: Intent[];
  /** checkout.session.completed events to write: never stale (see the contract's exception). */
  checkouts: Intent[];
  /** Older than what the record already has: nothing to write. */
  stale: Intent[];
  /** Already in the record (its Last_Stripe_Event_Id__c, or its completing checkout session). */
  duplicates: Intent[];
}

/** The event of an intent as the ordering rules see it. */
export function incomingOf(intent: Intent): IncomingEvent {
  return { eventId: intent.event.id, created: intent.event.created, isFinal: intent.write.isFinal };
}

/** The stamp of an intent's event. */
export function stampOf(intent: Intent): EventStamp {
  return { created: intent.event.created, eventId: intent.event.id };
}

/** The record key an intent writes. */
export function keyOf(intent: Intent): string {
  return recordKey(intent.write.record.object, intent.write.record.externalId);
}

/** The checkout session an intent completes its subscription with. */
function sessionOf(intent: Intent): string | undefined {
  const id = intent.write.record.fields.Checkout_Session_Id__c;
  return typeof id === "string" ? id : undefined;
}

/** Groups a batch's intents by record and decides, per record, what is written, stale or a duplicate. */
export function planRecords(
  intents: readonly Intent[],
  states: ReadonlyMap<string, RecordState>,
): Map<string, RecordPlan> {
  const plans = new Map<string, RecordPlan>();
  for (const intent of intents) {
    const key = keyOf(intent);
    let plan = plans.get(key);
    if (!plan) {
      const { object, externalId } = intent.write.record;
      plan = {
        key,
        object,
        externalId,
        state: states.get(key),
        superseded: [],
        checkouts: [],
        stale: [],
        duplicates: [],
      };
      plans.set(key, plan);
    }
    if (intent.handler.channel === "checkout") {
      const isDone = plan.state?.completedBy !== undefined && plan.state.completedBy === sessionOf(intent);
      (isDone ? plan.duplicates : plan.checkouts).push(intent);
      continue;
    }
    const verdict = judgeEvent(plan.state, incomingOf(intent));
    if (verdict === "duplicate") plan.duplicates.push(intent);
    else if (verdict === "stale") plan.stale.push(intent);
    else if (!plan.main) plan.main = intent;
    else if (supersedes(incomingOf(plan.main), incomingOf(intent))) {
      plan.superseded.push(plan.main);
      plan.main = intent;
    } else plan.superseded.push(intent);
  }
  return plans;
}

/** The record a plan writes, in default names, and what the store learns once it lands. */
export interface ComposedRecord {
  fields: SalesforceRecord;
  /** The Stripe object for a mapping's added fields (the main event's; none for checkout-only). */
  source: Record<string, unknown> | undefined;
  /** The record's state change once Salesforce accepted the write. */
  update: RecordUpdate;
}

/**
 * Merges a plan's main event and checkout events into one record (one record per External ID per
 * call). Sync_Status__c = Pending is sent only when the record is created without a checkout;
 * checkouts set Completed and the session id and never move Last_Stripe_Event_*, which move
 * forward only, to the main event. Stripe_Account_Id__c is the events' connected account, sent
 * only for Connect events (a Stripe id lives in one account, so they all name the same one).
 */
export function composeRecord(plan: RecordPlan): ComposedRecord | undefined {
  if (!plan.main && plan.checkouts.length === 0) return undefined;
  const fields: SalesforceRecord = { ...(plan.main?.write.record.fields ?? {}) };
  const update: RecordUpdate = { key: plan.key };
  for (const checkout of plan.checkouts) {
    Object.assign(fields, checkout.write.record.fields);
    const session = sessionOf(checkout);
    if (session !== undefined) update.completedBy = session;
  }
  const account = [plan.main, ...plan.checkouts]
    .map((intent) => intent && accountOf(intent.event))
    .find(Boolean);
  if (account) fields.Stripe_Account_Id__c = account;
  if (plan.object === "Stripe_Subscription__c" && !plan.state?.exists && plan.checkouts.length === 0) {
    fields.Sync_Status__c = "Pending";
  }
  if (plan.main) {
    if (plan.main.write.isFinal) update.isFinal = true;
    const last = plan.state?.last;
    if (!last || plan.main.event.created >= last.created) {
      update.last = stampOf(plan.main);
      fields.Last_Stripe_Event_Id__c = update.last.eventId;
      fields.Last_Stripe_Event_At__c = toDateTime(update.last.created);
    }
  }
  return { fields, source: plan.main?.write.record.source, update };
}

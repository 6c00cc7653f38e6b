import type { FailureOutcome } from "./event-outcome.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { composeRecord, type Intent, type RecordPlan } from "./plan-records.js";
import type { SalesforceRecord } from "./salesforce-port.js";
import { recordKey, type RecordState, type RecordUpdate } from "./sync-store-port.js";

/** One record to upsert and, once the call answered, how it went. */
export interface WriteEntry {
  key: string;
  object: DefaultObjectName;
  fields: SalesforceRecord;
  /** The Stripe object for a mapping's added fields. */
  source: Record<string, unknown> | undefined;
  /** The plan the record carries; none for a parent stub. */
  plan: RecordPlan | undefined;
  /** What the store learns once the write landed. */
  update: RecordUpdate;
  /** Keys of the parent customers this record needs written first. */
  parents: string[];
  result?: "ok" | FailureOutcome;
}

/** The outcome of an event whose record (or parent) another batch kept busy past the lease wait. */
export const RECORD_BUSY: FailureOutcome = { status: "retry", reason: "record_busy", scope: "record" };

/** The intents a plan writes. */
export function writtenIntents(plan: RecordPlan): Intent[] {
  return [...(plan.main ? [plan.main] : []), ...plan.checkouts];
}

/** Customer ids a child plan links to (a re-read may name one the payload did not). */
export function parentIdsOf(plan: RecordPlan): string[] {
  if (plan.object === "Stripe_Customer__c") return [];
  const ids = writtenIntents(plan)
    .map((intent) => intent.write.record.customerId)
    .filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/** The store key of a parent customer. */
export function customerKey(customerId: string): string {
  return recordKey("Stripe_Customer__c", customerId);
}

/**
 * A parent stub: the customer's id and Name, for a child whose parent the org does not have, with
 * the child's Stripe_Account_Id__c (a Connect customer lives in its child's account).
 */
export function parentStub(key: string, child: WriteEntry): WriteEntry {
  const customerId = key.slice("Stripe_Customer__c:".length);
  const account = child.fields.Stripe_Account_Id__c;
  return {
    key,
    object: "Stripe_Customer__c",
    fields: {
      Stripe_Customer_Id__c: customerId,
      Name: customerId,
      ...(typeof account === "string" ? { Stripe_Account_Id__c: account } : {}),
    },
    source: undefined,
    plan: undefined,
    update: { key },
    parents: [],
  };
}

/**
 * One record per External ID per object, plus a parent stub (id and Name) for each customer the
 * org does not have. A child whose parent the batch does not hold is marked busy, not written:
 * its stub could overwrite a customer another batch is writing.
 */
export function composeWrites(
  plans: readonly RecordPlan[],
  states: ReadonlyMap<string, RecordState>,
  isHeld: (key: string) => boolean,
): WriteEntry[] {
  const customers = new Map<string, WriteEntry>();
  const children: WriteEntry[] = [];
  for (const plan of plans) {
    const composed = composeRecord(plan);
    if (!composed) continue;
    const entry: WriteEntry = { key: plan.key, object: plan.object, plan, parents: [], ...composed };
    if (plan.object === "Stripe_Customer__c") customers.set(plan.key, entry);
    else children.push(entry);
  }
  for (const child of children) {
    const keys = parentIdsOf(child.plan as RecordPlan).map(customerKey);
    if (!keys.every(isHeld)) {
      child.result = { ...RECORD_BUSY };
      continue;
    }
    for (const key of keys) {
      if (states.get(key)?.exists) continue;
      if (!customers.has(key)) customers.set(key, parentStub(key, child));
      child.parents.push(key);
    }
  }
  return [...customers.values(), ...children];
}

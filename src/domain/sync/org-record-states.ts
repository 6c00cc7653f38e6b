import { orgExternalIdField, type Mapping } from "./mapping.js";
import type { DefaultObjectName } from "./mapped-record.js";
import type { RecordQuery, SalesforceReader, SalesforceRecord } from "./salesforce-port.js";
import type { EventStamp, RecordState } from "./sync-store-port.js";

/** The fields (default names) that hold a record's order and final state in the org. */
const STATE_FIELDS: Record<DefaultObjectName, readonly string[]> = {
  Stripe_Customer__c: ["Last_Stripe_Event_Id__c", "Last_Stripe_Event_At__c", "Deleted__c"],
  Stripe_Subscription__c: [
    "Last_Stripe_Event_Id__c",
    "Last_Stripe_Event_At__c",
    "Status__c",
    "Sync_Status__c",
    "Checkout_Session_Id__c",
  ],
  Payment_Transaction__c: ["Last_Stripe_Event_Id__c", "Last_Stripe_Event_At__c", "Status__c"],
};

/** Whether what the org holds is a final state: a deleted customer, a canceled subscription, a Succeeded payment. */
function isFinalIn(object: DefaultObjectName, read: (field: string) => unknown): boolean {
  if (object === "Stripe_Customer__c") return read("Deleted__c") === true;
  if (object === "Stripe_Subscription__c") return read("Status__c") === "canceled";
  return read("Status__c") === "Succeeded";
}

/**
 * The stamp of a Stripe object read at `seconds` without an event (contract: "Objects read without
 * an event"): it orders like an event of that second, and its id matches no event's.
 */
export function readStamp(seconds: number): EventStamp {
  return { created: seconds, eventId: `stripe-read@${seconds}` };
}

/** Unix seconds of a Salesforce DateTime (`2025-01-01T12:00:00.000+0000`), or undefined. */
export function secondsOfDateTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** The state a record read from the org holds, through the mapping's names. */
function stateOfRecord(object: DefaultObjectName, record: SalesforceRecord, mapping: Mapping): RecordState {
  const names = mapping.objects[object].fields;
  const read = (field: string) => {
    const orgName = names[field];
    return orgName === undefined ? undefined : record[orgName];
  };
  const state: RecordState = { exists: true, isFinal: isFinalIn(object, read) };
  const eventId = read("Last_Stripe_Event_Id__c");
  const created = secondsOfDateTime(read("Last_Stripe_Event_At__c"));
  if (typeof eventId === "string" && eventId !== "" && created !== undefined)
    state.last = { eventId, created };
  // Written from an object read without an event (backfill, reconcile): ordered by its read time.
  else if (created !== undefined) state.last = readStamp(created);
  const session = read("Checkout_Session_Id__c");
  if (read("Sync_Status__c") === "Completed" && typeof session === "string") state.completedBy = session;
  return state;
}

/**
 * Reads what the org holds for the records named by `keys` (`<default object>:<external id>`): one
 * query per object. The answer has a state for every record the org has; the others it does not.
 */
export async function readOrgRecordStates(
  keys: readonly string[],
  reader: SalesforceReader,
  mapping: Mapping,
): Promise<Map<string, RecordState>> {
  const byObject = new Map<DefaultObjectName, string[]>();
  for (const key of new Set(keys)) {
    const separator = key.indexOf(":");
    const object = key.slice(0, separator) as DefaultObjectName;
    byObject.set(object, [...(byObject.get(object) ?? []), key.slice(separator + 1)]);
  }
  const objects = [...byObject.keys()];
  if (objects.length === 0) return new Map();
  const queries: RecordQuery[] = objects.map((object) => {
    const names = mapping.objects[object].fields;
    return {
      objectName: mapping.objects[object].name,
      externalIdField: orgExternalIdField(mapping, object),
      fields: STATE_FIELDS[object]
        .map((field) => names[field])
        .filter((name): name is string => name !== undefined),
      externalIds: byObject.get(object) as string[],
    };
  });
  const answers = await reader.readRecords(queries);
  const states = new Map<string, RecordState>();
  objects.forEach((object, i) => {
    const externalIdField = (queries[i] as RecordQuery).externalIdField;
    for (const record of answers[i] ?? []) {
      const externalId = record[externalIdField];
      if (typeof externalId === "string")
        states.set(`${object}:${externalId}`, stateOfRecord(object, record, mapping));
    }
  });
  return states;
}

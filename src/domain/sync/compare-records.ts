import type { MappedWrite } from "./event-handlers.js";
import { secondsOfDateTime } from "./org-record-states.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { orgExternalIdField, relationshipNameOf, toOrgRecord, type Mapping } from "./mapping.js";
import type { RecordQuery, SalesforceRecord } from "./salesforce-port.js";

/** Fields no Stripe object fills (events and checkouts do): never drift. */
const EVENT_FIELDS = [
  "Last_Stripe_Event_Id__c",
  "Last_Stripe_Event_At__c",
  "Sync_Status__c",
  "Checkout_Session_Id__c",
];

/** One field whose value in the org is not what Stripe's object maps to. */
export interface FieldDrift {
  /** The org's field name (a lookup as `Rel__r.ExternalId__c`). */
  field: string;
  stripe: unknown;
  org: unknown;
}

/** How one record differs from Stripe's object: missing from the org, or differing fields. */
export type RecordDrift = { status: "missing" } | { status: "differs"; fields: FieldDrift[] };

/** The query that reads, for a page of records, every field the mapping writes (the lookup through its parent's External ID). */
export function driftQuery(mapping: Mapping, object: DefaultObjectName, externalIds: string[]): RecordQuery {
  const objectMapping = mapping.objects[object];
  const parentExternalId = orgExternalIdField(mapping, "Stripe_Customer__c");
  const fields = Object.entries(objectMapping.fields).map(([name, orgName]) =>
    name === "Stripe_Customer__c" ? `${relationshipNameOf(orgName)}.${parentExternalId}` : orgName,
  );
  return {
    objectName: objectMapping.name,
    externalIdField: orgExternalIdField(mapping, object),
    fields: [...new Set([...fields, ...Object.keys(objectMapping.add)])],
    externalIds,
  };
}

/** A value as compared: empty (null, undefined, "") alike, DateTimes as seconds, numbers to 9 digits. */
function normalized(value: unknown): unknown {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(value))
    return secondsOfDateTime(value) ?? value;
  if (typeof value === "number") return Math.round(value * 1e9) / 1e9;
  return value;
}

/** Reads `Rel__r.Field` from a query record (`{ Rel__r: { Field } }`), or a plain field. */
function readField(record: SalesforceRecord, path: string): unknown {
  const [first = "", second] = path.split(".");
  if (second === undefined) return record[first];
  const parent = record[first];
  return parent && typeof parent === "object" ? (parent as Record<string, unknown>)[second] : null;
}

/**
 * Compares what Stripe's object maps to (through the mapping, added fields included) with the org's
 * record, field by field; fields only events set are left out. Undefined when they agree.
 */
export function compareWithOrg(
  mapping: Mapping,
  write: MappedWrite,
  org: SalesforceRecord | undefined,
): RecordDrift | undefined {
  if (!org) return { status: "missing" };
  const { record } = write;
  const eventFields = new Set(EVENT_FIELDS.map((field) => mapping.objects[record.object].fields[field]));
  const expected = toOrgRecord(mapping, record.object, record.fields, record.source);
  const fields: FieldDrift[] = [];
  for (const [field, value] of Object.entries(expected)) {
    if (eventFields.has(field)) continue;
    const isLookup = field.endsWith("__r") && value !== null && typeof value === "object";
    const entries: [string, unknown][] = isLookup
      ? Object.entries(value as Record<string, unknown>).map(([parentField, id]) => [
          `${field}.${parentField}`,
          id,
        ])
      : [[field, value]];
    for (const [path, stripe] of entries) {
      const inOrg = readField(org, path);
      if (normalized(stripe) !== normalized(inOrg)) fields.push({ field: path, stripe, org: inOrg ?? null });
    }
  }
  return fields.length === 0 ? undefined : { status: "differs", fields };
}

import type { SalesforceRecord } from "./salesforce-port.js";
import {
  SALESFORCE_OBJECTS,
  type FieldDefinition,
  type ObjectDefinition,
} from "../../salesforce-schema/objects.js";
import { cutText, readPath } from "./map-values.js";
import type { DefaultObjectName } from "./mapped-record.js";

/** How one default object appears in the org. */
export interface ObjectMapping {
  /** The object's API name in the org (default: the contract's). */
  name: string;
  /** Default field name -> the org's field name; a dropped field is absent. */
  fields: Record<string, string>;
  /** Added org field -> dotted path in the Stripe object (`metadata.crm_account`), written as Text(255). */
  add: Record<string, string>;
}

/** The field mapping in force: the contract's tables, possibly overridden by a mapping file. */
export interface Mapping {
  objects: Record<DefaultObjectName, ObjectMapping>;
}

/** Default definitions by name. */
export const DEFAULT_OBJECTS = new Map<string, ObjectDefinition>(SALESFORCE_OBJECTS.map((o) => [o.name, o]));

/** Fields that may be renamed but never dropped: ordering and idempotency depend on them. */
export const UNDROPPABLE_FIELDS = ["Last_Stripe_Event_Id__c", "Last_Stripe_Event_At__c"] as const;

/** The mapping that is exactly the contract (../shared/salesforce-schema.md). */
export function defaultMapping(): Mapping {
  const objectMapping = (definition: ObjectDefinition): ObjectMapping => ({
    name: definition.name,
    fields: Object.fromEntries(definition.fields.map((field) => [field.name, field.name])),
    add: {},
  });
  const get = (name: DefaultObjectName) => objectMapping(DEFAULT_OBJECTS.get(name) as ObjectDefinition);
  return {
    objects: {
      Stripe_Customer__c: get("Stripe_Customer__c"),
      Stripe_Subscription__c: get("Stripe_Subscription__c"),
      Payment_Transaction__c: get("Payment_Transaction__c"),
    },
  };
}

/** The org's name of `object`'s External ID field under `mapping`. */
export function orgExternalIdField(mapping: Mapping, object: DefaultObjectName): string {
  const definition = DEFAULT_OBJECTS.get(object) as ObjectDefinition;
  return mapping.objects[object].fields[definition.externalIdField] as string;
}

/** `Foo__c` -> `Foo__r`: the relationship name Salesforce derives from a custom lookup field. */
export function relationshipNameOf(lookupField: string): string {
  return lookupField.replace(/__c$/, "__r");
}

/** Stringifies an added field's value for a Text(255) field; null when the path is absent. */
function addedValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return cutText(text, 255);
}

/**
 * Renames, drops and adds fields of a record produced in default names. `source` (the Stripe object)
 * fills the mapping's added fields; without it (parent stubs, checkout-only writes) they are not sent.
 */
export function toOrgRecord(
  mapping: Mapping,
  object: DefaultObjectName,
  record: SalesforceRecord,
  source?: Record<string, unknown>,
): SalesforceRecord {
  const objectMapping = mapping.objects[object];
  const out: SalesforceRecord = {};
  for (const [field, value] of Object.entries(record)) {
    if (field.endsWith("__r")) {
      const orgLookup = objectMapping.fields[field.replace(/__r$/, "__c")];
      if (orgLookup === undefined) continue;
      const parentExternalId = orgExternalIdField(mapping, "Stripe_Customer__c");
      const reference = value as Record<string, unknown>;
      out[relationshipNameOf(orgLookup)] = { [parentExternalId]: reference.Stripe_Customer_Id__c };
      continue;
    }
    const orgField = objectMapping.fields[field];
    if (orgField !== undefined) out[orgField] = value;
  }
  if (source) {
    for (const [field, path] of Object.entries(objectMapping.add))
      out[field] = addedValue(readPath(source, path));
  }
  return out;
}

/**
 * The object definitions the org has under `mapping`: renamed objects and fields, dropped fields
 * removed, added fields as Text(255). The emulator and the metadata generator follow an override
 * through this.
 */
export function effectiveObjects(mapping: Mapping): ObjectDefinition[] {
  const customerName = mapping.objects.Stripe_Customer__c.name;
  return SALESFORCE_OBJECTS.map((definition) => {
    const objectMapping = mapping.objects[definition.name as DefaultObjectName];
    const fields: FieldDefinition[] = [];
    for (const field of definition.fields) {
      const orgName = objectMapping.fields[field.name];
      if (orgName === undefined) continue;
      const renamed: FieldDefinition = { ...field, name: orgName };
      if (field.type === "Lookup") {
        renamed.referenceTo = customerName;
        renamed.relationshipName = relationshipNameOf(orgName);
      }
      fields.push(renamed);
    }
    for (const name of Object.keys(objectMapping.add)) {
      fields.push({ name, label: name.replace(/__c$/, "").replace(/_/g, " "), type: "Text", length: 255 });
    }
    return {
      ...definition,
      name: objectMapping.name,
      externalIdField: objectMapping.fields[definition.externalIdField] as string,
      fields,
    };
  });
}

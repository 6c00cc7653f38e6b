import type { FieldDefinition, ObjectDefinition } from "../../salesforce-schema/objects.js";
import { formatDateTime, type RecordStore } from "./record-store.js";

/** A per-record error as sObject Collections reports it. */
export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** A failure of the whole request (the JSON could not be read into the object): HTTP 400. */
export class RequestError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Fixed lengths Salesforce gives these types whatever the metadata says. */
const FIXED_LENGTH: Partial<Record<FieldDefinition["type"], number>> = { Email: 80, Phone: 40 };
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The field named `name` on `object`, case-insensitively as Salesforce reads API names. */
export function findField(object: ObjectDefinition, name: string): FieldDefinition | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((field) => field.name.toLowerCase() === lower);
}

/** The lookup whose relationship name is `name` (`Stripe_Customer__r`). */
export function findRelationship(object: ObjectDefinition, name: string): FieldDefinition | undefined {
  const lower = name.toLowerCase();
  return object.fields.find((field) => field.relationshipName?.toLowerCase() === lower);
}

/** The maximum length of a text-like field. */
export function fieldLength(field: FieldDefinition): number | undefined {
  return FIXED_LENGTH[field.type] ?? field.length;
}

function readValue(field: FieldDefinition, value: unknown): unknown {
  if (value === null) return null;
  const cannotRead = () =>
    new RequestError(
      "JSON_PARSER_ERROR",
      `Cannot deserialize instance of ${field.type.toLowerCase()} from ${typeof value} value ${JSON.stringify(value)} or request may be missing a required field`,
    );
  switch (field.type) {
    case "Checkbox":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      throw cannotRead();
    case "Number": {
      const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof number !== "number" || !Number.isFinite(number)) throw cannotRead();
      return number;
    }
    case "DateTime":
      if (typeof value !== "string" || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))
        throw cannotRead();
      return formatDateTime(Date.parse(value));
    case "Lookup":
      if (typeof value !== "string") throw cannotRead();
      return value;
    default:
      if (typeof value === "object") throw cannotRead();
      return String(value);
  }
}

function checkValue(field: FieldDefinition, value: unknown): RecordError | undefined {
  if (value === null) return undefined;
  const length = fieldLength(field);
  if (typeof value === "string" && length !== undefined && value.length > length) {
    return {
      statusCode: "STRING_TOO_LONG",
      message: `${field.label}: data value too large: ${value} (max length=${length})`,
      fields: [field.name],
    };
  }
  if (field.type === "Email" && typeof value === "string" && !EMAIL.test(value)) {
    return {
      statusCode: "INVALID_EMAIL_ADDRESS",
      message: `${field.label}: invalid email address: ${value}`,
      fields: [field.name],
    };
  }
  if (field.type === "Picklist" && field.picklistValues && !field.picklistValues.includes(String(value))) {
    return {
      statusCode: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
      message: `${field.label}: bad value for restricted picklist field: ${String(value)}`,
      fields: [field.name],
    };
  }
  if (field.type === "Number" && typeof value === "number") {
    const integerDigits = (field.precision ?? 18) - (field.scale ?? 0);
    if (Math.abs(Math.trunc(value)) >= 10 ** integerDigits) {
      return {
        statusCode: "NUMBER_OUTSIDE_VALID_RANGE",
        message: `${field.label}: value outside of valid range on numeric field: ${value}`,
        fields: [field.name],
      };
    }
  }
  return undefined;
}

/** The outcome of reading one record: field values ready to store, or the record's errors. */
export type ReadRecord = { fields: Record<string, unknown>; errors: RecordError[] };

/**
 * Reads one record's JSON into field values for `object`: unknown fields and unreadable values
 * fail the whole request (as Salesforce's deserializer does); bad data fails the record.
 * `Rel__r: {ExtField: value}` resolves to the parent's Id.
 */
export function readRecord(
  object: ObjectDefinition,
  body: Record<string, unknown>,
  store: RecordStore,
): ReadRecord {
  const fields: Record<string, unknown> = {};
  const errors: RecordError[] = [];
  for (const [key, raw] of Object.entries(body)) {
    if (key === "attributes") continue;
    const relationship = key.endsWith("__r") ? findRelationship(object, key) : undefined;
    if (relationship?.referenceTo) {
      const parentId = resolveParent(relationship, raw, store);
      if (typeof parentId === "string" || parentId === null) fields[relationship.name] = parentId;
      else errors.push(parentId);
      continue;
    }
    const field = findField(object, key);
    if (!field)
      throw new RequestError("INVALID_FIELD", `No such column '${key}' on sobject of type ${object.name}`);
    const value = readValue(field, raw);
    const error = checkValue(field, value);
    if (error) errors.push(error);
    else fields[field.name] = value;
  }
  return { fields, errors };
}

function resolveParent(
  lookup: FieldDefinition,
  raw: unknown,
  store: RecordStore,
): string | null | RecordError {
  if (raw === null) return null;
  const parent = store.definition(lookup.referenceTo ?? "");
  if (!parent || typeof raw !== "object") {
    throw new RequestError(
      "INVALID_FIELD",
      `Invalid foreign key relationship name ${lookup.relationshipName}`,
    );
  }
  const entries = Object.entries(raw as Record<string, unknown>).filter(([key]) => key !== "attributes");
  const [key, value] = entries[0] ?? [];
  if (entries.length !== 1 || key === undefined) {
    throw new RequestError(
      "INVALID_FIELD",
      `Exactly one external id field must be set on ${lookup.relationshipName}`,
    );
  }
  if (key.toLowerCase() === "id")
    return typeof value === "string" && store.findById(parent.name, value) ? value : null;
  if (key.toLowerCase() !== parent.externalIdField.toLowerCase()) {
    throw new RequestError(
      "INVALID_FIELD",
      `Field ${key} is not an External ID or indexed field for ${parent.name}`,
    );
  }
  const found = typeof value === "string" ? store.findByExternalId(parent.name, value) : undefined;
  if (found) return found.Id;
  return {
    statusCode: "INVALID_FIELD",
    message: `Foreign key external ID: ${String(value)} not found for field ${parent.externalIdField} in entity ${parent.name}`,
    fields: [],
  };
}

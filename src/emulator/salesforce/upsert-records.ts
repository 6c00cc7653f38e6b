import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { FaultInjector } from "./fault-injector.js";
import type { RecordStore, StoredRecord } from "./record-store.js";
import { findField, readRecord, RequestError, type RecordError } from "./validate-record.js";
import type { WriteSource } from "./write-history.js";

/** One record's answer in an sObject Collections upsert. */
export interface CollectionResult {
  id?: string;
  success: boolean;
  errors: RecordError[];
  created?: boolean;
}

/** What one upsert call changed, for the stats. */
export interface UpsertTally {
  created: number;
  updated: number;
  failed: number;
}

/** A record ready to be written: its Id, its field values, and the record it updates (if any). */
export interface PlannedWrite {
  id: string;
  fields: Record<string, unknown>;
  existing: StoredRecord | undefined;
}

const MAX_RECORDS = 200;
const ROLLED_BACK: RecordError = {
  statusCode: "ALL_OR_NONE_OPERATION_ROLLED_BACK",
  message: "Record rolled back because not all records were valid and the request was using AllOrNone header",
  fields: [],
};

/** Field-level security: the fields the running user may not set on this insert or update. */
function checkFieldAccess(
  object: ObjectDefinition,
  fields: Record<string, unknown>,
  isUpdate: boolean,
  store: RecordStore,
): RecordError | undefined {
  const refused = Object.keys(fields).filter((name) => {
    const field = findField(object, name);
    if (!field) return false;
    const access = store.schema.fieldAccess(object.name, field);
    return isUpdate ? !access.updateable : !access.createable;
  });
  if (refused.length === 0) return undefined;
  return {
    statusCode: "INVALID_FIELD_FOR_INSERT_UPDATE",
    message: `Unable to create/update fields: ${refused.join(", ")}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
    fields: refused,
  };
}

/** Reads one record and decides insert or update; returns its errors instead when it cannot be written. */
export function planWrite(
  object: ObjectDefinition,
  externalId: string,
  body: Record<string, unknown>,
  store: RecordStore,
  faults: FaultInjector,
): PlannedWrite | RecordError[] {
  const { fields, errors } = readRecord(object, body, store);
  const existing = store.findByExternalId(object.name, externalId);
  if (errors.length > 0) return errors;
  const refused = checkFieldAccess(object, fields, existing !== undefined, store);
  if (refused) return [refused];
  const fault = faults.takeRecordFault(object.name, externalId, existing?.Id);
  if (fault) return [{ statusCode: fault.statusCode, message: fault.message, fields: [] }];
  if (fields.Name === null) {
    return [
      {
        statusCode: "REQUIRED_FIELD_MISSING",
        message: "Required fields are missing: [Name]",
        fields: ["Name"],
      },
    ];
  }
  const id = existing?.Id ?? store.newId(object.name);
  // A custom object's Name defaults to the record Id on insert (describe: defaultedOnCreate).
  if (!existing && fields.Name === undefined) fields.Name = id;
  fields[object.externalIdField] = externalId;
  return { id, fields, existing };
}

/**
 * `PATCH /composite/sobjects/{Object}/{ExtField}`: upserts up to 200 records in request order.
 * With allOrNone nothing commits unless every record succeeds.
 */
export function upsertCollection(
  object: ObjectDefinition,
  externalIdField: string,
  request: unknown,
  store: RecordStore,
  faults: FaultInjector,
  options: { source: WriteSource; isAllOrNoneForced?: boolean },
): { results: CollectionResult[]; tally: UpsertTally } {
  const { allOrNone: sentAllOrNone, records } = (request ?? {}) as { allOrNone?: unknown; records?: unknown };
  // Inside a composite request with allOrNone, its all-or-none overrides the subrequest's.
  const allOrNone = options.isAllOrNoneForced === true ? true : sentAllOrNone;
  if (!Array.isArray(records)) throw new RequestError("JSON_PARSER_ERROR", "records: expected an array");
  if (records.length > MAX_RECORDS) {
    throw new RequestError(
      "EXCEEDED_ID_LIMIT",
      `record limit reached. cannot submit more than ${MAX_RECORDS} records into this call`,
    );
  }
  if (externalIdField.toLowerCase() !== object.externalIdField.toLowerCase()) {
    throw new RequestError(
      "INVALID_FIELD",
      `Provided external ID field does not exist or is not accessible: ${externalIdField}`,
      404,
    );
  }
  const bodies = records.map(
    (record: unknown) =>
      (typeof record === "object" && record !== null ? record : {}) as Record<string, unknown>,
  );
  for (const body of bodies) {
    const type = (body.attributes as { type?: unknown } | undefined)?.type;
    if (typeof type !== "string" || type.toLowerCase() !== object.name.toLowerCase()) {
      throw new RequestError("INVALID_TYPE", "Must send a concrete entity type matching the URL's object.");
    }
  }
  const externalIds = bodies.map((body) => {
    const key = Object.keys(body).find((k) => k.toLowerCase() === object.externalIdField.toLowerCase());
    const value = key === undefined ? undefined : body[key];
    return typeof value === "string" && value !== "" ? value : undefined;
  });
  const poison = faults.takePoison(externalIds);
  if (poison) throw new RequestError(poison.errorCode, poison.message, poison.status);
  const occurrences = new Map<string, number>();
  for (const id of externalIds) if (id !== undefined) occurrences.set(id, (occurrences.get(id) ?? 0) + 1);

  // Salesforce reads the whole request before writing anything: an unknown field in any record fails the call.
  for (const body of bodies) readRecord(object, body, store);
  const outcomes: Array<PlannedWrite | RecordError[]> = bodies.map((body, index) => {
    const externalId = externalIds[index];
    if (externalId === undefined) {
      return [
        { statusCode: "MISSING_ARGUMENT", message: `${object.externalIdField} not specified`, fields: [] },
      ];
    }
    if ((occurrences.get(externalId) ?? 0) > 1) {
      return [
        {
          statusCode: "DUPLICATE_EXTERNAL_ID",
          message: `Duplicate external id specified: ${externalId}`,
          fields: [],
        },
      ];
    }
    const { [object.externalIdField]: _ext, ...rest } = body;
    const outcome = planWrite(object, externalId, rest, store, faults);
    if (!Array.isArray(outcome) && allOrNone !== true)
      store.write(object, outcome.id, outcome.fields, outcome.existing, options.source);
    return outcome;
  });

  const hasFailure = outcomes.some((outcome) => Array.isArray(outcome));
  const tally: UpsertTally = { created: 0, updated: 0, failed: 0 };
  const results = outcomes.map((outcome): CollectionResult => {
    if (Array.isArray(outcome)) {
      tally.failed += 1;
      return { success: false, errors: outcome };
    }
    if (allOrNone === true && hasFailure) {
      tally.failed += 1;
      return { success: false, errors: [ROLLED_BACK] };
    }
    if (allOrNone === true) store.write(object, outcome.id, outcome.fields, outcome.existing, options.source);
    if (outcome.existing) tally.updated += 1;
    else tally.created += 1;
    return { id: outcome.id, success: true, errors: [], created: !outcome.existing };
  });
  return { results, tally };
}

/**
 * `PATCH /sobjects/{Object}/{ExtField}/{value}`: one upsert; 201 on insert, 200 on update (API 46.0+).
 * A failed record is a whole-call 400 with `errorCode`.
 */
export function upsertSingle(
  object: ObjectDefinition,
  externalIdField: string,
  externalId: string,
  request: unknown,
  store: RecordStore,
  faults: FaultInjector,
  source: WriteSource,
): { status: number; body: unknown; tally: UpsertTally } {
  if (externalIdField.toLowerCase() !== object.externalIdField.toLowerCase()) {
    throw new RequestError(
      "NOT_FOUND",
      "Provided external ID field does not exist or is not accessible",
      404,
    );
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    throw new RequestError("JSON_PARSER_ERROR", "The request body must be a JSON object");
  }
  const { [object.externalIdField]: sent, ...rest } = request as Record<string, unknown>;
  if (sent !== undefined && sent !== externalId) {
    throw new RequestError("INVALID_FIELD", `${object.externalIdField} in the body does not match the URL`);
  }
  const outcome = planWrite(object, externalId, rest, store, faults);
  if (Array.isArray(outcome)) {
    return {
      status: 400,
      body: outcome.map((error) => ({
        message: error.message,
        errorCode: error.statusCode,
        fields: error.fields,
      })),
      tally: { created: 0, updated: 0, failed: 1 },
    };
  }
  store.write(object, outcome.id, outcome.fields, outcome.existing, source);
  const created = !outcome.existing;
  return {
    status: created ? 201 : 200,
    body: { id: outcome.id, success: true, errors: [], created },
    tally: { created: created ? 1 : 0, updated: created ? 0 : 1, failed: 0 },
  };
}

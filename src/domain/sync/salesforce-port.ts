/** One record for an sObject Collections upsert: field API names to values (no `attributes`). */
export type SalesforceRecord = Record<string, unknown>;

/** Salesforce's per-record error inside a collections answer. */
export interface SalesforceRecordError {
  /** e.g. `STRING_TOO_LONG`, `UNABLE_TO_LOCK_ROW`, `INVALID_FIELD`. */
  statusCode: string;
  message: string;
  fields: string[];
}

/** The outcome of one record of an upsert, in request order. */
export interface UpsertRecordResult {
  /** The record's External ID value, as sent. */
  externalId: string;
  success: boolean;
  /** Salesforce record id, when the write succeeded. */
  id?: string;
  /** True when the upsert inserted a new record. */
  created?: boolean;
  errors: SalesforceRecordError[];
  /** For a failed record: true when retrying can help (locks, transient server errors). */
  isRetryable: boolean;
}

/** Records of one object to upsert by its External ID field: one sObject Collections request (at most 200). */
export interface UpsertRequest {
  objectName: string;
  externalIdField: string;
  records: SalesforceRecord[];
}

/** How one request went: per-record results in request order, or the error of the whole request. */
export type UpsertAnswer = { results: UpsertRecordResult[] } | { error: Error };

/** Writes records to Salesforce; implemented over HTTP in data-access/salesforce. */
export interface SalesforceWriter {
  /**
   * Upserts each request (`allOrNone: false`), in order, in as few API calls as it can: several
   * requests ride in one Composite request (one API call, at most 5 collections), executed in
   * order, so parents sent before their children land first. A request refused as a whole
   * answers its error (a RetryableSyncError or PermanentSyncError); a failure of the whole call
   * (network, 5xx, the session, the daily limit) throws.
   */
  upsertMany(requests: readonly UpsertRequest[]): Promise<UpsertAnswer[]>;
}

/** Which records to read from one object: those whose External ID is one of `externalIds`. */
export interface RecordQuery {
  /** The object's API name in the org. */
  objectName: string;
  /** Its External ID field in the org. */
  externalIdField: string;
  /** Fields to read besides Id and the External ID. */
  fields: string[];
  externalIds: string[];
}

/**
 * Reads records from Salesforce; implemented over HTTP in data-access/salesforce. Failures throw
 * like SalesforceWriter's whole-call failures.
 */
export interface SalesforceReader {
  /**
   * For each query, the records the org has (with `Id`, the External ID and `fields`); an id the
   * org does not have is simply absent. One SOQL query per object, split only where the ids exceed
   * what one query may carry.
   */
  readRecords(queries: readonly RecordQuery[]): Promise<SalesforceRecord[][]>;
}

/** One field as the org describes it. */
export interface FieldDescription {
  name: string;
  type: string;
  createable: boolean;
  updateable: boolean;
  externalId: boolean;
}

/** One object as the org describes it (for the integration user: fields it cannot see are absent). */
export interface ObjectDescription {
  name: string;
  fields: FieldDescription[];
}

/** Reads what the org is: its objects' fields, and its API usage. */
export interface SalesforceDescriber {
  /**
   * Each object's fields as the integration user sees them, by the name asked for; undefined for an
   * object the org does not have. Several objects cost one API call where the org allows it.
   */
  describeObjects(objectNames: readonly string[]): Promise<Map<string, ObjectDescription | undefined>>;
  /** The org's daily API requests: used and allowed, over the rolling 24 hours. */
  apiUsage(): Promise<{ used: number; max: number }>;
}

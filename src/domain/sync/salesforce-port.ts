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

/**
 * Writes records to Salesforce; implemented over HTTP in data-access/salesforce. Whole-call
 * failures throw RetryableSyncError (5xx, REQUEST_LIMIT_EXCEEDED, network, a session that stays
 * invalid after one refresh) or PermanentSyncError; per-record failures come back as results.
 */
export interface SalesforceWriter {
  /**
   * Upserts `records` of one object by its External ID field with `allOrNone: false`, split into
   * calls of at most 200 records. Each record must carry `externalIdField`. Results come back in
   * the order of `records`.
   */
  upsert(
    objectName: string,
    externalIdField: string,
    records: SalesforceRecord[],
  ): Promise<UpsertRecordResult[]>;
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

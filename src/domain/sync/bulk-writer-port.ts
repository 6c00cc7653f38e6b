import type { SalesforceRecord } from "./salesforce-port.js";

/** Records of one object to upsert in one Bulk API 2.0 ingest job, by its External ID field (org names). */
export interface BulkUpsertJob {
  objectName: string;
  externalIdField: string;
  /**
   * Records as for a collections upsert (a lookup as `Rel__r: { Ext__c: value }`, null clears a
   * field); a field a record lacks while others have it is left as it is in the org.
   */
  records: SalesforceRecord[];
}

/** How one row of a job went. */
export interface BulkRowResult {
  externalId: string;
  /** `written`: upserted; `failed`: refused with `error`; `unprocessed`: the job stopped before it. */
  status: "written" | "failed" | "unprocessed";
  /** True when the upsert created the record. */
  created?: boolean;
  error?: { statusCode: string; message: string };
  /** For a failed row: true when trying again can help (a lock, a transient error). */
  isRetryable?: boolean;
}

/** The end of one ingest job. */
export interface BulkUpsertResult {
  jobId: string;
  /** `JobComplete`, `Failed` or `Aborted`. */
  state: string;
  /** Salesforce's reason when the job failed. */
  errorMessage?: string;
  /** One per record sent, in no particular order. */
  rows: BulkRowResult[];
  /** REST calls the job took (create, upload, close, each poll, the three result sets). */
  apiCalls: number;
}

/** Writes records through Bulk API 2.0 ingest jobs; implemented over jsforce's bulk2 in data-access/salesforce. */
export interface BulkWriter {
  /**
   * Runs one upsert job to its end and reads its successful, failed and unprocessed rows. Throws
   * like SalesforceWriter's whole-call failures when the job cannot be created or followed.
   */
  bulkUpsert(job: BulkUpsertJob): Promise<BulkUpsertResult>;
}

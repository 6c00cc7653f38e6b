import type { Connection } from "jsforce";
import type {
  BulkRowResult,
  BulkUpsertJob,
  BulkUpsertResult,
  BulkWriter,
} from "../../domain/sync/bulk-writer-port.js";
import type { SalesforceRecord } from "../../domain/sync/salesforce-port.js";
import { sleep, systemClock, type Clock } from "../../shared/clock.js";
import { PermanentSyncError, RetryableSyncError } from "../../shared/errors.js";
import { isRetryableRecordError } from "./salesforce-errors.js";

/** How a job is followed. */
export interface BulkIngestOptions {
  /** First wait between two polls of the job's state, ms (default 250); it doubles up to `maxPollIntervalMs`. */
  pollIntervalMs?: number;
  /** Longest wait between two polls, ms (default 5000): each poll is an API call. */
  maxPollIntervalMs?: number;
  /** Longest a job may run before it is aborted, ms (default 30 minutes). */
  timeoutMs?: number;
  clock?: Clock;
}

const END_STATES = new Set(["JobComplete", "Failed", "Aborted"]);

/** One record as CSV columns: a lookup `Rel__r: { Ext__c: v }` becomes the column `Rel__r.Ext__c`. */
function toColumns(record: SalesforceRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(record)) {
    if (field.endsWith("__r") && value !== null && typeof value === "object") {
      for (const [parentField, parentValue] of Object.entries(value))
        row[`${field}.${parentField}`] = parentValue;
    } else row[field] = value;
  }
  return row;
}

/**
 * Every row with the same columns, in one order (jsforce takes the CSV header from the first row):
 * a column a row lacks is sent empty, which Bulk API 2.0 leaves as it is; null is sent as `#N/A`,
 * which clears the field.
 */
function toRows(records: readonly SalesforceRecord[]): Record<string, unknown>[] {
  const rows = records.map(toColumns);
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return rows.map((row) =>
    Object.fromEntries(columns.map((column) => [column, row[column] ?? (column in row ? null : "")])),
  );
}

/** `CODE:message:fields --` (Bulk's `sf__Error`) as a status code and message. */
function parseRowError(text: unknown): { statusCode: string; message: string } {
  const value = String(text ?? "");
  const separator = value.indexOf(":");
  if (separator < 0) return { statusCode: "UNKNOWN_ERROR", message: value };
  const message = value.slice(separator + 1).replace(/:[^:]*--\s*$/, "");
  return { statusCode: value.slice(0, separator), message };
}

/** A failure of a Bulk REST call, converted once at this boundary. */
function toSyncError(error: unknown, step: string): Error {
  const code = (error as { errorCode?: string }).errorCode ?? (error as Error).name ?? "Error";
  const message = `Bulk API 2.0 ${step} failed: ${(error as Error).message}`;
  if (code === "REQUEST_LIMIT_EXCEEDED")
    return new RetryableSyncError(code, message, { scope: "api_limit", cause: error });
  if (
    /ECONN|ETIMEDOUT|socket|fetch failed|network/i.test(String(error)) ||
    code === "INVALID_SESSION_ID" ||
    /^5\d\d$/.test(code)
  )
    return new RetryableSyncError(code, message, { scope: "outage", cause: error });
  return new PermanentSyncError(code, message, { cause: error });
}

/**
 * BulkWriter over jsforce's `bulk2` ingest jobs: create (upsert on the External ID), upload the CSV
 * (jsforce writes it, null as `#N/A`), close, poll with a doubling interval, then read the
 * successful, failed and unprocessed rows. Every REST call is one API call, counted.
 */
export class BulkIngest implements BulkWriter {
  private readonly clock: Clock;

  constructor(
    private readonly connect: () => Promise<Connection>,
    private readonly options: BulkIngestOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
  }

  async bulkUpsert(request: BulkUpsertJob): Promise<BulkUpsertResult> {
    const conn = await this.connect();
    let apiCalls = 0;
    const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      apiCalls += 1;
      try {
        return await run();
      } catch (error) {
        throw toSyncError(error, name);
      }
    };
    const job = conn.bulk2.createJob({
      object: request.objectName,
      operation: "upsert",
      externalIdFieldName: request.externalIdField,
      lineEnding: "LF",
    });
    await step("create", () => job.open());
    await step("upload", () => job.uploadData(toRows(request.records)));
    await step("close", () => job.close());
    const deadline = this.clock.now() + (this.options.timeoutMs ?? 30 * 60_000);
    let interval = this.options.pollIntervalMs ?? 250;
    let info = await step("poll", () => job.check());
    while (!END_STATES.has(info.state)) {
      if (this.clock.now() > deadline) {
        await step("abort", () => job.abort()).catch(() => undefined);
        throw new RetryableSyncError("bulk_job_timeout", `Bulk job ${job.id} did not end in time`, {
          scope: "outage",
        });
      }
      await sleep(this.clock, interval);
      interval = Math.min(interval * 2, this.options.maxPollIntervalMs ?? 5000);
      info = await step("poll", () => job.check());
    }
    const [successful, failed, unprocessed] = await Promise.all([
      step("results", () => job.getSuccessfulResults()),
      step("results", () => job.getFailedResults()),
      step("results", () => job.getUnprocessedRecords()),
    ]);
    const field = request.externalIdField;
    const idOf = (row: Record<string, unknown>) => String(row[field] ?? "");
    const rows: BulkRowResult[] = [
      ...successful.map((row): BulkRowResult => ({
        externalId: idOf(row),
        status: "written",
        created: String(row.sf__Created) === "true",
      })),
      ...failed.map((row): BulkRowResult => {
        const error = parseRowError(row.sf__Error);
        return {
          externalId: idOf(row),
          status: "failed",
          error,
          isRetryable: isRetryableRecordError(error.statusCode),
        };
      }),
      ...(unprocessed as Record<string, unknown>[]).map((row): BulkRowResult => ({
        externalId: idOf(row as Record<string, unknown>),
        status: "unprocessed",
      })),
    ];
    return {
      jobId: String(job.id),
      state: info.state,
      ...(info.errorMessage ? { errorMessage: String(info.errorMessage) } : {}),
      rows,
      apiCalls,
    };
  }
}

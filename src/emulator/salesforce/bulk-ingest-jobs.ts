import type { EmulatorClock } from "./emulator-state.js";
import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { EmulatorStats } from "./emulator-stats.js";
import { COLUMN_DELIMITERS, parseCsv, writeCsv } from "./csv.js";
import type { FaultInjector } from "./fault-injector.js";
import { formatDateTime, type RecordStore } from "./record-store.js";
import { IdGenerator } from "./salesforce-ids.js";
import { planWrite } from "./upsert-records.js";
import { findField, findRelationship, RequestError, type RecordError } from "./validate-record.js";

/** A Bulk API 2.0 ingest job's state. */
export type JobState = "Open" | "UploadComplete" | "InProgress" | "JobComplete" | "Failed" | "Aborted";

interface Job {
  id: string;
  object: string;
  operation: string;
  externalIdFieldName: string;
  state: JobState;
  createdDate: string;
  systemModstamp: string;
  apiVersion: number;
  lineEnding: string;
  columnDelimiter: string;
  csv?: string;
  header: string[];
  successful: string[][];
  failed: string[][];
  unprocessed: string[][];
  errorMessage?: string;
  timer?: NodeJS.Timeout;
}

const CREATED_BY_ID = "0055g00000EMUSRAA2";

/** Bulk's rendering of a row's errors in `sf__Error`: `CODE:message:fields --`. */
function describeErrors(errors: RecordError[]): string {
  return errors.map((e) => `${e.statusCode}:${e.message}:${e.fields.join(",")} --`).join(" ");
}

/** Bulk API 2.0 ingest jobs (upsert by External ID) processed asynchronously after UploadComplete. */
export class BulkJobs {
  private readonly jobs = new Map<string, Job>();
  private readonly ids = new IdGenerator();

  constructor(
    private readonly deps: {
      store: RecordStore;
      faults: FaultInjector;
      stats: EmulatorStats;
      clock: EmulatorClock;
    },
    /** Milliseconds (real time) between UploadComplete and the job's processing. */
    public processingDelayMs: number,
  ) {}

  /** `POST /jobs/ingest`: opens a job; only `upsert` with an External ID field and CSV is supported. */
  create(request: unknown, apiVersion: string): Record<string, unknown> {
    const body = (typeof request === "object" && request !== null ? request : {}) as Record<string, unknown>;
    const object = typeof body.object === "string" ? this.deps.store.definition(body.object) : undefined;
    if (!object)
      throw new RequestError("NOT_FOUND", `sObject type '${String(body.object)}' is not supported`, 400);
    if (body.operation !== "upsert")
      throw new RequestError(
        "FEATURENOTENABLED",
        `the emulator supports operation upsert only, not ${String(body.operation)}`,
      );
    if (
      typeof body.externalIdFieldName !== "string" ||
      body.externalIdFieldName.toLowerCase() !== object.externalIdField.toLowerCase()
    )
      throw new RequestError("INVALIDJOB", `Invalid external ID field: ${String(body.externalIdFieldName)}`);
    if ((body.contentType ?? "CSV") !== "CSV")
      throw new RequestError("INVALIDJOB", "contentType must be CSV");
    const delimiter = String(body.columnDelimiter ?? "COMMA");
    if (!COLUMN_DELIMITERS[delimiter])
      throw new RequestError("INVALIDJOB", `Invalid columnDelimiter: ${delimiter}`);
    const now = formatDateTime(this.deps.clock.now());
    const job: Job = {
      id: this.ids.next("750"),
      object: object.name,
      operation: "upsert",
      externalIdFieldName: object.externalIdField,
      state: "Open",
      createdDate: now,
      systemModstamp: now,
      apiVersion: Number(apiVersion),
      lineEnding: body.lineEnding === "CRLF" ? "CRLF" : "LF",
      columnDelimiter: delimiter,
      header: [],
      successful: [],
      failed: [],
      unprocessed: [],
    };
    this.jobs.set(job.id, job);
    return this.describe(job, false);
  }

  /** `PUT /jobs/ingest/{id}/batches`: the job's CSV, once, while it is Open. */
  upload(id: string, csv: string): void {
    const job = this.find(id);
    if (job.state !== "Open" || job.csv !== undefined)
      throw new RequestError("INVALIDJOBSTATE", `Job ${id} is not open for data upload`, 409);
    job.csv = csv;
  }

  /** `PATCH /jobs/ingest/{id}`: UploadComplete (schedules processing) or Aborted. */
  setState(id: string, request: unknown): Record<string, unknown> {
    const job = this.find(id);
    const state = (request as { state?: unknown } | null)?.state;
    if (state === "UploadComplete" && job.state === "Open") {
      job.state = "UploadComplete";
      job.timer = setTimeout(() => this.process(job), this.processingDelayMs);
    } else if (state === "Aborted" && ["Open", "UploadComplete", "InProgress"].includes(job.state)) {
      clearTimeout(job.timer);
      job.state = "Aborted";
    } else {
      throw new RequestError(
        "INVALIDJOBSTATE",
        `Cannot change job ${id} from ${job.state} to ${String(state)}`,
      );
    }
    job.systemModstamp = formatDateTime(this.deps.clock.now());
    return this.describe(job, false);
  }

  /** `GET /jobs/ingest/{id}`: the job's state and counts. */
  info(id: string): Record<string, unknown> {
    return this.describe(this.find(id), true);
  }

  /** The CSV of one result set: successfulResults, failedResults or unprocessedrecords. */
  results(id: string, kind: "successfulResults" | "failedResults" | "unprocessedrecords"): string {
    const job = this.find(id);
    if (kind === "unprocessedrecords") return writeCsv([job.header, ...job.unprocessed]);
    const prefix = kind === "successfulResults" ? ["sf__Id", "sf__Created"] : ["sf__Id", "sf__Error"];
    return writeCsv([
      [...prefix, ...job.header],
      ...(kind === "successfulResults" ? job.successful : job.failed),
    ]);
  }

  /** `DELETE /jobs/ingest/{id}`. */
  delete(id: string): void {
    clearTimeout(this.find(id).timer);
    this.jobs.delete(id);
  }

  /** Forgets every job and stops pending processing. */
  clear(): void {
    for (const job of this.jobs.values()) clearTimeout(job.timer);
    this.jobs.clear();
  }

  private find(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) throw new RequestError("NOT_FOUND", "The requested resource does not exist", 404);
    return job;
  }

  private describe(job: Job, withCounts: boolean): Record<string, unknown> {
    return {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: CREATED_BY_ID,
      createdDate: job.createdDate,
      systemModstamp: job.systemModstamp,
      state: job.state,
      externalIdFieldName: job.externalIdFieldName,
      concurrencyMode: "Parallel",
      contentType: "CSV",
      apiVersion: job.apiVersion,
      jobType: "V2Ingest",
      contentUrl: `services/data/v${job.apiVersion.toFixed(1)}/jobs/ingest/${job.id}/batches`,
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
      ...(withCounts
        ? {
            numberRecordsProcessed: job.successful.length + job.failed.length,
            numberRecordsFailed: job.failed.length,
            retries: 0,
            totalProcessingTime: 0,
            apiActiveProcessingTime: 0,
            apexProcessingTime: 0,
          }
        : {}),
      ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
    };
  }

  private fail(job: Job, message: string, rows: string[][]): void {
    job.state = "Failed";
    job.errorMessage = message;
    job.unprocessed = rows;
  }

  private process(job: Job): void {
    if (job.state !== "UploadComplete") return;
    job.state = "InProgress";
    const rows = parseCsv(job.csv ?? "", COLUMN_DELIMITERS[job.columnDelimiter]).filter(
      (row) => !(row.length === 1 && row[0] === ""),
    );
    const [header = [], ...data] = rows;
    job.header = header;
    const object = this.deps.store.definition(job.object);
    const unknown = header.find((column) => !object || !this.isColumn(object, column));
    if (!object || unknown !== undefined)
      return this.fail(job, `InvalidBatch : Field name not found : ${unknown}`, data);
    const extIndex = header.findIndex((c) => c.toLowerCase() === object.externalIdField.toLowerCase());
    if (extIndex < 0)
      return this.fail(job, `InvalidBatch : Field name not found : ${object.externalIdField}`, data);
    const stop = this.deps.faults.takeBulkStop(object.name);
    const tally = { created: 0, updated: 0, failed: 0 };
    for (const [index, row] of data.entries()) {
      if (stop && index >= stop.afterRows) {
        job.unprocessed = data.slice(index);
        break;
      }
      const outcome = this.writeRow(object, header, row, extIndex);
      if ("errors" in outcome) {
        tally.failed += 1;
        job.failed.push(["", outcome.errors, ...row]);
      } else {
        tally[outcome.created ? "created" : "updated"] += 1;
        job.successful.push([outcome.id, String(outcome.created), ...row]);
      }
    }
    this.deps.stats.countRecords(tally);
    if (stop) {
      job.state = stop.state;
      if (stop.state === "Failed")
        job.errorMessage = "InternalServerError : processing stopped (injected fault)";
    } else job.state = "JobComplete";
    job.systemModstamp = formatDateTime(this.deps.clock.now());
  }

  private isColumn(object: ObjectDefinition, column: string): boolean {
    if (column.toLowerCase() === "id") return true;
    const [relationship, field, ...more] = column.split(".");
    if (field === undefined) return findField(object, column) !== undefined;
    return more.length === 0 && findRelationship(object, relationship ?? "") !== undefined;
  }

  private writeRow(
    object: ObjectDefinition,
    header: string[],
    row: string[],
    extIndex: number,
  ): { id: string; created: boolean } | { errors: string } {
    const externalId = row[extIndex] ?? "";
    if (externalId === "" || externalId === "#N/A")
      return { errors: `MISSING_ARGUMENT:${object.externalIdField} not specified: --` };
    const body: Record<string, unknown> = {};
    header.forEach((column, index) => {
      const raw = row[index] ?? "";
      // An empty value leaves the field as it is; #N/A sets it to null.
      if (index === extIndex || raw === "" || column.toLowerCase() === "id") return;
      const value = raw === "#N/A" ? null : raw;
      const [relationship = "", field] = column.split(".");
      if (field === undefined) body[column] = value;
      else body[relationship] = value === null ? null : { [field]: value };
    });
    try {
      const outcome = planWrite(object, externalId, body, this.deps.store, this.deps.faults);
      if (Array.isArray(outcome)) return { errors: describeErrors(outcome) };
      this.deps.store.write(object, outcome.id, outcome.fields, outcome.existing, "bulk");
      return { id: outcome.id, created: outcome.existing === undefined };
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      return { errors: `${error.errorCode}:${error.message}: --` };
    }
  }
}

import type {
  UpsertAnswer,
  UpsertRequest,
  RecordQuery,
  SalesforceReader,
  SalesforceRecord,
  SalesforceRecordError,
  SalesforceWriter,
  UpsertRecordResult,
} from "../../../src/domain/sync/salesforce-port.js";

/** One upsert call as the fake received it. */
export interface UpsertCall {
  objectName: string;
  externalIdField: string;
  records: SalesforceRecord[];
}

/** A per-record rejection the fake answers with. */
export interface Rejection extends SalesforceRecordError {
  isRetryable: boolean;
}

/**
 * An in-memory SalesforceWriter: records calls and applies upserts like sObject Collections with
 * allOrNone=false, including the errors the sync must avoid (an External ID twice in one call, a
 * lookup to a parent that does not exist yet).
 */
export class FakeSalesforceWriter implements SalesforceWriter, SalesforceReader {
  readonly calls: UpsertCall[] = [];
  /** Every readRecords call, as the queries it received. */
  readonly reads: RecordQuery[][] = [];
  /** Object name -> External ID -> record as stored. */
  readonly rows = new Map<string, Map<string, SalesforceRecord>>();
  private readonly rejections = new Map<string, Rejection>();
  private nextCallError: Error | undefined;
  private nextId = 1;

  constructor(private readonly parentObject = "Stripe_Customer__c") {}

  /** The next upsert for `externalId` fails with `rejection` (once). */
  rejectRecord(externalId: string, rejection: Rejection): void {
    this.rejections.set(externalId, rejection);
  }

  /** The next upsert call throws `error` as a whole. */
  failNextCall(error: Error): void {
    this.nextCallError = error;
  }

  /** The stored record of `objectName` with `externalId`. */
  row(objectName: string, externalId: string): SalesforceRecord | undefined {
    return this.rows.get(objectName)?.get(externalId);
  }

  /** API calls the fake counted: one per upsertMany, more past five requests (as Composite does). */
  apiCalls = 0;
  private readonly requestErrors = new Map<string, Error[]>();

  /** The next `count` requests for `objectName` are refused as a whole with `error`. */
  failRequests(objectName: string, error: Error, count = 1): void {
    this.requestErrors.set(objectName, [
      ...(this.requestErrors.get(objectName) ?? []),
      ...Array<Error>(count).fill(error),
    ]);
  }

  async upsertMany(requests: readonly UpsertRequest[]): Promise<UpsertAnswer[]> {
    this.apiCalls += Math.max(1, Math.ceil(requests.length / 5));
    if (this.nextCallError) {
      const error = this.nextCallError;
      this.nextCallError = undefined;
      throw error;
    }
    const answers: UpsertAnswer[] = [];
    for (const request of requests) {
      this.calls.push({
        objectName: request.objectName,
        externalIdField: request.externalIdField,
        records: structuredClone(request.records),
      });
      const refusal = this.requestErrors.get(request.objectName)?.shift();
      if (refusal) answers.push({ error: refusal });
      else
        answers.push({
          results: await this.upsert(request.objectName, request.externalIdField, request.records),
        });
    }
    return answers;
  }

  private async upsert(
    objectName: string,
    externalIdField: string,
    records: SalesforceRecord[],
  ): Promise<UpsertRecordResult[]> {
    const ids = records.map((record) => String(record[externalIdField]));
    if (new Set(ids).size !== ids.length)
      throw new Error(`DUPLICATE_EXTERNAL_ID in one call: ${ids.join(",")}`);
    const table = this.rows.get(objectName) ?? new Map<string, SalesforceRecord>();
    this.rows.set(objectName, table);
    return records.map((record, i) => {
      const externalId = ids[i] as string;
      const rejection = this.rejections.get(externalId);
      if (rejection) {
        this.rejections.delete(externalId);
        const { isRetryable, ...error } = rejection;
        return { externalId, success: false, errors: [error], isRetryable };
      }
      for (const [field, value] of Object.entries(record)) {
        if (!field.endsWith("__r")) continue;
        const [parentIdField, parentId] = Object.entries(value as Record<string, unknown>)[0] ?? [];
        const parentExists = [...(this.rows.get(this.parentObject)?.values() ?? [])].some(
          (parent) => parent[parentIdField as string] === parentId,
        );
        if (!parentExists) {
          return {
            externalId,
            success: false,
            isRetryable: false,
            errors: [
              {
                statusCode: "INVALID_FIELD",
                message: `Foreign key external ID: ${String(parentId)} not found for field ${parentIdField} in entity ${this.parentObject}`,
                fields: [],
              },
            ],
          };
        }
      }
      const existing = table.get(externalId);
      table.set(externalId, { ...(existing ?? { Id: `a0${this.nextId++}` }), ...structuredClone(record) });
      return {
        externalId,
        success: true,
        id: String(table.get(externalId)?.Id),
        created: !existing,
        errors: [],
        isRetryable: false,
      };
    });
  }

  /** Answers from the stored rows, like a SOQL query by External IDs; DateTimes in Salesforce's form. */
  async readRecords(queries: readonly RecordQuery[]): Promise<SalesforceRecord[][]> {
    this.reads.push(structuredClone([...queries]));
    return queries.map((query) => {
      const table = this.rows.get(query.objectName);
      return query.externalIds.flatMap((id) => {
        const row = table?.get(id);
        if (!row) return [];
        const picked: SalesforceRecord = { Id: row.Id, [query.externalIdField]: id };
        for (const field of query.fields) {
          const value = row[field];
          picked[field] =
            typeof value === "string" && /^\d{4}-\d{2}-\d{2}T.*Z$/.test(value)
              ? value.replace(/Z$/, "+0000")
              : (value ?? null);
        }
        return [picked];
      });
    });
  }

  /** Puts a record in the fake org, as if it had been there before (another tool, an earlier load). */
  preload(objectName: string, externalIdField: string, record: SalesforceRecord): void {
    const table = this.rows.get(objectName) ?? new Map<string, SalesforceRecord>();
    this.rows.set(objectName, table);
    table.set(String(record[externalIdField]), { Id: `a0${this.nextId++}`, ...structuredClone(record) });
  }
}

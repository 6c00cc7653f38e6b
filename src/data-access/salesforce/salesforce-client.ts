import { systemClock, type Clock } from "../../shared/clock.js";
import { Connection } from "jsforce";
import { PermanentSyncError, RetryableSyncError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import {
  requestSalesforceToken,
  type SalesforceAuthOptions,
  type SalesforceToken,
} from "./salesforce-auth.js";
import { isRetryableRecordError, toSyncError } from "./salesforce-errors.js";
import type { TokenCache } from "./token-cache.js";
import type {
  RecordQuery,
  SalesforceReader,
  SalesforceRecord,
  SalesforceRecordError,
  SalesforceWriter,
  UpsertRecordResult,
} from "../../domain/sync/salesforce-port.js";
import { soqlByExternalIds } from "./soql-by-external-ids.js";

/** Constructor options of the Salesforce client. */
export interface SalesforceClientOptions {
  /** Login URL and credentials for the OAuth token request. */
  auth: SalesforceAuthOptions;
  /** REST API version such as `62.0`; 46.0 or later for collections upsert. */
  apiVersion: string;
  /** Where the access token is shared (Redis in production, memory locally). */
  tokenCache: TokenCache;
  logger: Logger;
  metrics?: Metrics;
  /** HTTP client (default global `fetch`). */
  fetch?: typeof fetch;
  clock?: Clock;
  /** Records per collections call, at most 200 (default 200; config.worker.maxRecordsPerCall). */
  maxRecordsPerCall?: number;
  /** Timeout of each HTTP request in ms (default 20000, below the record leases' lifetime). */
  requestTimeoutMs?: number;
}

/** A SOQL answer, all pages joined. */
export interface QueryResult<T = Record<string, unknown>> {
  totalSize: number;
  done: boolean;
  records: T[];
}

/** The part of a describe answer the project reads; the rest is passed through untyped. */
export interface DescribeResult {
  name: string;
  fields: Array<{
    name: string;
    type: string;
    length?: number;
    externalId?: boolean;
    [key: string]: unknown;
  }>;
  [key: string]: unknown;
}

interface CollectionResult {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  // Collections answers spell the code `statusCode`; the REST error bodies elsewhere spell it `errorCode`.
  errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }>;
}

const MAX_COLLECTION_SIZE = 200;

/** Default timeout of one request: a write must never outlive the record leases (30 s) that fence it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

/** One page of a SOQL answer. */
interface QueryPage {
  done?: boolean;
  nextRecordsUrl?: string;
  records?: SalesforceRecord[];
}

/** A query record without Salesforce's `attributes` (type and URL). */
function withoutAttributes(record: SalesforceRecord): SalesforceRecord {
  const { attributes: _attributes, ...fields } = record;
  return fields;
}

/**
 * Splits records into calls of at most `size`, in order; a record whose external id is already in
 * the current call starts the next one, so Salesforce never sees the same id twice in one call
 * (DUPLICATE_EXTERNAL_ID) and the later write still lands after the earlier one.
 */
export function chunkRecords(
  records: SalesforceRecord[],
  externalIdField: string,
  size: number,
): Array<Array<{ index: number; record: SalesforceRecord }>> {
  const chunks: Array<Array<{ index: number; record: SalesforceRecord }>> = [];
  let current: Array<{ index: number; record: SalesforceRecord }> = [];
  let seen = new Set<string>();
  records.forEach((record, index) => {
    const externalId = String(record[externalIdField]);
    if (current.length >= size || seen.has(externalId)) {
      chunks.push(current);
      current = [];
      seen = new Set();
    }
    current.push({ index, record });
    seen.add(externalId);
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Salesforce REST client: upserts through sObject Collections, plus query and describe.
 * Upserts use `fetch` rather than jsforce because jsforce never retries PATCH, can loop on a 401
 * that outlives a refresh, and resolves to bodies only, while each status code decides a retry.
 */
export class SalesforceClient implements SalesforceWriter, SalesforceReader {
  private readonly doFetch: typeof fetch;
  private readonly clock: Clock;
  private readonly maxRecordsPerCall: number;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: SalesforceClientOptions) {
    this.doFetch = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.maxRecordsPerCall = Math.min(options.maxRecordsPerCall ?? MAX_COLLECTION_SIZE, MAX_COLLECTION_SIZE);
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Upserts `records` by `externalIdField` with allOrNone false; results in the order of `records`. */
  async upsert(
    objectName: string,
    externalIdField: string,
    records: SalesforceRecord[],
  ): Promise<UpsertRecordResult[]> {
    const results: UpsertRecordResult[] = new Array<UpsertRecordResult>(records.length);
    const path = `/services/data/v${this.options.apiVersion}/composite/sobjects/${objectName}/${externalIdField}`;
    for (const chunk of chunkRecords(records, externalIdField, this.maxRecordsPerCall)) {
      const body = {
        allOrNone: false,
        records: chunk.map(({ record }) => ({ attributes: { type: objectName }, ...record })),
      };
      this.options.metrics?.salesforceRecordsPerCall.observe({ object: objectName }, chunk.length);
      const answer = await this.send("upsert", "PATCH", path, JSON.stringify(body));
      const parsed = parseJson<CollectionResult[]>("upsert", answer);
      if (!Array.isArray(parsed) || parsed.length !== chunk.length) {
        throw new RetryableSyncError(
          "unexpected_response",
          `Salesforce answered ${String(parsed?.length)} results for ${chunk.length} records`,
        );
      }
      chunk.forEach(({ index, record }, position) => {
        results[index] = toRecordResult(
          String(record[externalIdField]),
          externalIdField,
          parsed[position] ?? {},
        );
      });
    }
    return results;
  }

  /** Reads records by External ID: one query per object (split only past one query's limits), each page one call. */
  async readRecords(queries: readonly RecordQuery[]): Promise<SalesforceRecord[][]> {
    return Promise.all(
      queries.map(async (query) => {
        const records: SalesforceRecord[] = [];
        for (const soql of soqlByExternalIds(query)) {
          let path: string | undefined =
            `/services/data/v${this.options.apiVersion}/query?q=${encodeURIComponent(soql)}`;
          while (path) {
            const page: QueryPage = parseJson<QueryPage>("query", await this.send("query", "GET", path));
            records.push(...(page.records ?? []).map(withoutAttributes));
            path = page.done === false ? page.nextRecordsUrl : undefined;
          }
        }
        return records;
      }),
    );
  }

  /**
   * The org and user of the session, from the identity URL of the token
   * (`https://login.salesforce.com/id/<orgId>/<userId>`); asks for a token when none is cached.
   */
  async identity(): Promise<{ orgId: string; userId: string }> {
    const token = await this.options.tokenCache.getToken(this.requestToken);
    const [orgId, userId] = new URL(token.id).pathname.split("/").filter(Boolean).slice(-2);
    if (!orgId || !userId)
      throw new RetryableSyncError("unexpected_response", `token identity URL without org: ${token.id}`);
    return { orgId, userId };
  }

  /** Runs a SOQL query through jsforce, which follows `nextRecordsUrl` until done. */
  async query<T = Record<string, unknown>>(soql: string): Promise<QueryResult<T>> {
    const answer = await this.withConnection(
      "query",
      async (conn) => await conn.query<Record<string, unknown>>(soql, { autoFetch: true, maxFetch: 100_000 }),
    );
    return { totalSize: answer.totalSize, done: true, records: answer.records as T[] };
  }

  /** Describes one object through jsforce: its fields with types, lengths and external ids. */
  async describe(objectName: string): Promise<DescribeResult> {
    return (await this.withConnection("describe", (conn) =>
      conn.describe(objectName),
    )) as unknown as DescribeResult;
  }

  /**
   * Reads go through jsforce (its paging, and its retries of GET on 5xx) with the shared token. It is
   * given no refresh function: a 401 comes back to us, and we refresh once and retry once.
   */
  private async withConnection<T>(operation: string, read: (conn: Connection) => Promise<T>): Promise<T> {
    const { tokenCache, metrics } = this.options;
    for (let attempt = 1; ; attempt++) {
      const token = await tokenCache.getToken(this.requestToken);
      const conn = new Connection({
        instanceUrl: token.instanceUrl,
        accessToken: token.accessToken,
        version: this.options.apiVersion,
      });
      try {
        const result = await read(conn);
        metrics?.salesforceCalls.inc({ operation, status: "200" });
        this.recordApiUsage(conn.limitInfo?.apiUsage);
        return result;
      } catch (error) {
        const code = (error as { errorCode?: string }).errorCode ?? (error as Error).name;
        metrics?.salesforceCalls.inc({ operation, status: code });
        if (code === "INVALID_SESSION_ID") {
          await tokenCache.invalidate(token.accessToken);
          if (attempt === 1) continue;
          throw new RetryableSyncError(
            "INVALID_SESSION_ID",
            `Salesforce ${operation}: session still invalid after one refresh`,
          );
        }
        if (isRetryableRecordError(code) || /ECONN|ETIMEDOUT|socket|fetch failed/i.test(String(error))) {
          throw new RetryableSyncError(code, `Salesforce ${operation} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
        throw new PermanentSyncError(code, `Salesforce ${operation} failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }

  private requestToken = (): Promise<SalesforceToken> =>
    requestSalesforceToken(this.options.auth, {
      fetch: this.doFetch,
      clock: this.clock,
      logger: this.options.logger,
      timeoutMs: this.requestTimeoutMs,
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
    });

  /** One REST call with the shared token; on 401 invalidates it and retries once with a fresh one. */
  private async send(operation: string, method: string, path: string, body?: string): Promise<string> {
    const { tokenCache } = this.options;
    let token = await tokenCache.getToken(this.requestToken);
    let response = await this.fetchOnce(operation, token, method, path, body);
    if (response.status === 401) {
      this.options.logger.info("Salesforce session invalid; getting a fresh token", { operation });
      await tokenCache.invalidate(token.accessToken);
      token = await tokenCache.getToken(this.requestToken);
      response = await this.fetchOnce(operation, token, method, path, body);
      if (response.status === 401) {
        await tokenCache.invalidate(token.accessToken);
        throw new RetryableSyncError(
          "INVALID_SESSION_ID",
          `Salesforce ${operation}: session still invalid after one refresh`,
        );
      }
    }
    if (response.status >= 200 && response.status < 300) return response.text;
    const error = toSyncError(operation, response.status, response.text);
    this.options.logger.warn("Salesforce call failed", {
      operation,
      status: response.status,
      code: (error as { code?: string }).code,
    });
    throw error;
  }

  private async fetchOnce(
    operation: string,
    token: SalesforceToken,
    method: string,
    path: string,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    const metrics = this.options.metrics;
    try {
      const response = await this.doFetch(`${token.instanceUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token.accessToken}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const text = await response.text();
      this.recordApiUsage(response.headers.get("sforce-limit-info"));
      metrics?.salesforceCalls.inc({ operation, status: String(response.status) });
      return { status: response.status, text };
    } catch (error) {
      metrics?.salesforceCalls.inc({ operation, status: "network_error" });
      throw new RetryableSyncError(
        "network_error",
        `Salesforce ${operation} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  private recordApiUsage(limitInfo: string | null | { used: number; limit: number } | undefined): void {
    const usage =
      typeof limitInfo === "string" || limitInfo === null || limitInfo === undefined
        ? limitInfo
            ?.match(/api-usage=(\d+)\/(\d+)/)
            ?.slice(1, 3)
            .map(Number)
        : [limitInfo.used, limitInfo.limit];
    if (!usage || usage.length !== 2 || !this.options.metrics) return;
    this.options.metrics.salesforceApiUsage.set({ kind: "used" }, usage[0]!);
    this.options.metrics.salesforceApiUsage.set({ kind: "limit" }, usage[1]!);
  }
}

/** A 2xx body that is not JSON came from something between us and Salesforce: retry later. */
function parseJson<T>(operation: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new RetryableSyncError(
      "unexpected_response",
      `Salesforce ${operation} answered a body that is not JSON`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Two upserts that create the same External ID at the same moment make one of them fail with
 * DUPLICATE_VALUE on that field; retried, it finds the record and updates it. A duplicate on any
 * other unique field is the org's rule and stays permanent.
 */
function isRetryableError(error: SalesforceRecordError, externalIdField: string): boolean {
  if (error.statusCode === "DUPLICATE_VALUE") {
    return error.fields.includes(externalIdField) || error.message.includes(externalIdField);
  }
  return isRetryableRecordError(error.statusCode);
}

function toRecordResult(
  externalId: string,
  externalIdField: string,
  result: CollectionResult,
): UpsertRecordResult {
  const errors: SalesforceRecordError[] = (result.errors ?? []).map((error) => ({
    statusCode: error.statusCode ?? error.errorCode ?? "UNKNOWN",
    message: error.message ?? "",
    fields: error.fields ?? [],
  }));
  const success = result.success === true;
  const outcome: UpsertRecordResult = {
    externalId,
    success,
    errors,
    isRetryable:
      !success && errors.length > 0 && errors.every((error) => isRetryableError(error, externalIdField)),
  };
  if (result.id) outcome.id = result.id;
  if (typeof result.created === "boolean") outcome.created = result.created;
  return outcome;
}

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
  ObjectDescription,
  RecordQuery,
  SalesforceDescriber,
  SalesforceReader,
  SalesforceRecord,
  SalesforceWriter,
  UpsertAnswer,
  UpsertRequest,
} from "../../domain/sync/salesforce-port.js";
import type { ApiBudget } from "./api-budget.js";
import { upsertCollections } from "./collections-upsert.js";
import {
  MAX_SUBREQUESTS,
  parseJson,
  sendComposite,
  type RestCall,
  type SubrequestAnswer,
} from "./composite-request.js";
import { readByExternalIds } from "./read-by-external-ids.js";

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
  /** Timeout of each HTTP request in ms (default 20000, below the record leases' lifetime). */
  requestTimeoutMs?: number;
  /** This service's daily API budget: every call waits for it (SALESFORCE_DAILY_API_BUDGET). */
  budget?: ApiBudget;
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

/** An sObject Describe answer as the fields the mapping check needs. */
function toObjectDescription(objectName: string, body: unknown): ObjectDescription {
  const described = body as { name?: string; fields?: Array<Record<string, unknown>> };
  return {
    name: described.name ?? objectName,
    fields: (described.fields ?? []).map((field) => ({
      name: String(field.name),
      type: String(field.type),
      createable: field.createable === true,
      updateable: field.updateable === true,
      externalId: field.externalId === true,
    })),
  };
}

/** Default timeout of one request: a write must never outlive the record leases (30 s) that fence it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 20_000;

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
export class SalesforceClient implements SalesforceWriter, SalesforceReader, SalesforceDescriber {
  private readonly doFetch: typeof fetch;
  private readonly clock: Clock;
  private readonly requestTimeoutMs: number;

  constructor(private readonly options: SalesforceClientOptions) {
    this.doFetch = options.fetch ?? fetch;
    this.clock = options.clock ?? systemClock;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Upserts requests in order, several per Composite call (see SalesforceWriter). */
  async upsertMany(requests: readonly UpsertRequest[]): Promise<UpsertAnswer[]> {
    return upsertCollections(this.call, this.options.apiVersion, requests, this.options.metrics);
  }

  /** Reads records by External ID: one query per object, several per Composite call (see SalesforceReader). */
  async readRecords(queries: readonly RecordQuery[]): Promise<SalesforceRecord[][]> {
    return readByExternalIds(this.call, this.options.apiVersion, queries);
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

  /**
   * Describes several objects in one Composite request (sObject Describe is an sObject resource,
   * which Composite carries: one API call for all of them, up to 25). An object whose subrequest
   * did not answer 200, or every object when the Composite call itself fails, is described again
   * on its own: that GET tells a missing object (undefined) from a refusal (thrown), whatever the
   * peer answered inside the Composite.
   */
  async describeObjects(objectNames: readonly string[]): Promise<Map<string, ObjectDescription | undefined>> {
    const names = [...new Set(objectNames)];
    const described = new Map<string, ObjectDescription | undefined>();
    const retry: string[] = [];
    for (let i = 0; i < names.length; i += MAX_SUBREQUESTS) {
      const slice = names.slice(i, i + MAX_SUBREQUESTS);
      if (slice.length === 1) {
        retry.push(...slice);
        continue;
      }
      let answers: SubrequestAnswer[];
      try {
        answers = await sendComposite(
          this.call,
          this.options.apiVersion,
          "describe",
          slice.map((name) => ({ method: "GET" as const, url: this.describePath(name) })),
        );
      } catch (error) {
        this.options.logger.warn("describing the objects in one Composite call failed: one call each", {
          error: (error as Error).message,
        });
        retry.push(...slice);
        continue;
      }
      for (const [j, name] of slice.entries()) {
        const answer = answers[j];
        if (answer?.status === 200 && Array.isArray((answer.body as { fields?: unknown })?.fields))
          described.set(name, toObjectDescription(name, answer.body));
        else retry.push(name);
      }
    }
    for (const name of retry) described.set(name, await this.describeObject(name));
    return described;
  }

  private describePath(objectName: string): string {
    return `/services/data/v${this.options.apiVersion}/sobjects/${encodeURIComponent(objectName)}/describe`;
  }

  /** The object's fields as the integration user sees them; undefined when the org has no such object. */
  async describeObject(objectName: string): Promise<ObjectDescription | undefined> {
    let text: string;
    try {
      text = await this.send("describe", "GET", this.describePath(objectName));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "NOT_FOUND" || code === "INVALID_TYPE") return undefined;
      throw error;
    }
    return toObjectDescription(objectName, parseJson("describe", text));
  }

  /** The org's daily API requests from the Limits resource (`DailyApiRequests`). */
  async apiUsage(): Promise<{ used: number; max: number }> {
    const text = await this.send("limits", "GET", `/services/data/v${this.options.apiVersion}/limits`);
    const daily = parseJson<{ DailyApiRequests?: { Max?: number; Remaining?: number } }>(
      "limits",
      text,
    ).DailyApiRequests;
    const max = Number(daily?.Max);
    const remaining = Number(daily?.Remaining);
    if (Number.isFinite(max) && Number.isFinite(remaining))
      this.orgUsage = { used: max - remaining, limit: max };
    if (!Number.isFinite(max) || !Number.isFinite(remaining))
      throw new RetryableSyncError("unexpected_response", "the Limits resource has no DailyApiRequests", {
        scope: "outage",
      });
    return { used: max - remaining, max };
  }

  /**
   * A jsforce Connection on the shared token, for the APIs this client does not wrap (Bulk API 2.0
   * ingest jobs). A 401 fetches a fresh token through jsforce's `refreshFn`, at most twice per
   * connection (jsforce alone would loop on a 401 that outlives a refresh).
   */
  async jsforceConnection(): Promise<Connection> {
    const { tokenCache } = this.options;
    let current = await tokenCache.getToken(this.requestToken);
    let refreshes = 0;
    return new Connection({
      instanceUrl: current.instanceUrl,
      accessToken: current.accessToken,
      version: this.options.apiVersion,
      refreshFn: (_conn, callback) => {
        refreshes += 1;
        if (refreshes > 2) return callback(new Error("Salesforce session still invalid after two refreshes"));
        void tokenCache
          .invalidate(current.accessToken)
          .then(() => tokenCache.getToken(this.requestToken))
          .then(
            (fresh) => {
              current = fresh;
              callback(null, fresh.accessToken);
            },
            (error: unknown) => callback(error as Error),
          );
      },
    });
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
      await this.options.budget?.beforeCall();
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
            { scope: "org" },
          );
        }
        if (isRetryableRecordError(code) || /ECONN|ETIMEDOUT|socket|fetch failed/i.test(String(error))) {
          throw new RetryableSyncError(code, `Salesforce ${operation} failed: ${(error as Error).message}`, {
            cause: error,
            scope: isRetryableRecordError(code) ? "record" : "outage",
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
  /** One REST call, for the request modules (collections, reads): the same token, refresh and usage. */
  private readonly call: RestCall = (operation, method, path, body) =>
    this.send(operation, method, path, body);

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
          { scope: "org" },
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
    await this.options.budget?.beforeCall();
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
          scope: "outage",
          cause: error,
        },
      );
    }
  }

  /** The org's daily API usage as the last answer's Sforce-Limit-Info said, all integrations included. */
  lastOrgUsage(): { used: number; limit: number } | undefined {
    return this.orgUsage;
  }

  private orgUsage: { used: number; limit: number } | undefined;

  private recordApiUsage(limitInfo: string | null | { used: number; limit: number } | undefined): void {
    const usage =
      typeof limitInfo === "string" || limitInfo === null || limitInfo === undefined
        ? limitInfo
            ?.match(/api-usage=(\d+)\/(\d+)/)
            ?.slice(1, 3)
            .map(Number)
        : [limitInfo.used, limitInfo.limit];
    if (!usage || usage.length !== 2) return;
    this.orgUsage = { used: usage[0]!, limit: usage[1]! };
    if (!this.options.metrics) return;
    this.options.metrics.salesforceApiUsage.set({ kind: "used" }, usage[0]!);
    this.options.metrics.salesforceApiUsage.set({ kind: "limit" }, usage[1]!);
  }
}

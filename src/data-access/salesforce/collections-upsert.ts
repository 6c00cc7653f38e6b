import type {
  SalesforceRecord,
  SalesforceRecordError,
  UpsertAnswer,
  UpsertRecordResult,
  UpsertRequest,
} from "../../domain/sync/salesforce-port.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { Metrics } from "../../shared/metrics.js";
import {
  MAX_HEAVY_SUBREQUESTS,
  parseJson,
  sendComposite,
  type RestCall,
  type Subrequest,
} from "./composite-request.js";
import { isRetryableRecordError, toSyncError } from "./salesforce-errors.js";

/** Records one sObject Collections request takes. */
export const MAX_COLLECTION_SIZE = 200;

interface CollectionResult {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  // Collections answers spell the code `statusCode`; the REST error bodies elsewhere spell it `errorCode`.
  errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }>;
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

/**
 * Splits records into requests of at most `size`, in order; a record whose external id is already
 * in the current request starts the next one, so Salesforce never sees the same id twice in one
 * request and the later write still lands after the earlier one.
 */
export function chunkRecords(
  records: readonly SalesforceRecord[],
  externalIdField: string,
  size: number,
): SalesforceRecord[][] {
  const chunks: SalesforceRecord[][] = [];
  let current: SalesforceRecord[] = [];
  let seen = new Set<string>();
  for (const record of records) {
    const externalId = String(record[externalIdField]);
    if (current.length >= size || seen.has(externalId)) {
      chunks.push(current);
      current = [];
      seen = new Set();
    }
    current.push(record);
    seen.add(externalId);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** The answer of one collections request from its status and body. */
function answerOf(request: UpsertRequest, status: number, body: unknown): UpsertAnswer {
  if (status < 200 || status >= 300)
    return { error: toSyncError("upsert", status, JSON.stringify(body ?? "")) };
  if (!Array.isArray(body) || body.length !== request.records.length) {
    return {
      error: new RetryableSyncError(
        "unexpected_response",
        `Salesforce answered ${Array.isArray(body) ? body.length : "no"} results for ${request.records.length} records`,
        { scope: "outage" },
      ),
    };
  }
  return {
    results: request.records.map((record, i) =>
      toRecordResult(
        String(record[request.externalIdField]),
        request.externalIdField,
        (body[i] ?? {}) as CollectionResult,
      ),
    ),
  };
}

/** The PATCH of one collections upsert. */
function subrequestOf(apiVersion: string, request: UpsertRequest): Subrequest {
  return {
    method: "PATCH",
    url: `/services/data/v${apiVersion}/composite/sobjects/${request.objectName}/${request.externalIdField}`,
    body: {
      allOrNone: false,
      records: request.records.map((record) => ({ attributes: { type: request.objectName }, ...record })),
    },
  };
}

/**
 * Upserts requests in order: one collections call for a single request, one Composite call per
 * five requests otherwise (parents sent first land first). Requests over 200 records are split.
 */
export async function upsertCollections(
  call: RestCall,
  apiVersion: string,
  requests: readonly UpsertRequest[],
  metrics?: Metrics,
): Promise<UpsertAnswer[]> {
  // Split requests over the collections limit, remembering which answers to join.
  const parts: { owner: number; request: UpsertRequest }[] = requests.flatMap((request, owner) =>
    chunkRecords(request.records, request.externalIdField, MAX_COLLECTION_SIZE).map((records) => ({
      owner,
      request: { ...request, records },
    })),
  );
  const partAnswers: UpsertAnswer[] = [];
  for (let i = 0; i < parts.length; i += MAX_HEAVY_SUBREQUESTS) {
    const slice = parts.slice(i, i + MAX_HEAVY_SUBREQUESTS);
    for (const { request } of slice)
      metrics?.salesforceRecordsPerCall.observe({ object: request.objectName }, request.records.length);
    if (slice.length === 1 && parts.length === 1) {
      const only = (slice[0] as { request: UpsertRequest }).request;
      const sub = subrequestOf(apiVersion, only);
      let text: string;
      try {
        text = await call("upsert", "PATCH", sub.url, JSON.stringify(sub.body));
      } catch (error) {
        // A refusal of this request alone (4xx other than the session or the limit) is its answer.
        if (error instanceof RetryableSyncError && error.scope !== "record") throw error;
        partAnswers.push({ error: error as Error });
        continue;
      }
      partAnswers.push(answerOf(only, 200, parseJson("upsert", text)));
      continue;
    }
    const answers = await sendComposite(
      call,
      apiVersion,
      "composite",
      slice.map(({ request }) => subrequestOf(apiVersion, request)),
    );
    slice.forEach(({ request }, j) => {
      const answer = answers[j] as { status: number; body: unknown };
      partAnswers.push(answerOf(request, answer.status, answer.body));
    });
  }
  // Join the parts of each request back: the first error wins, else the results in order.
  return requests.map((_, owner) => {
    const mine = parts
      .map((part, i) => ({ part, answer: partAnswers[i] as UpsertAnswer }))
      .filter(({ part }) => part.owner === owner);
    const failed = mine.find(({ answer }) => "error" in answer);
    if (failed) return failed.answer;
    return { results: mine.flatMap(({ answer }) => ("results" in answer ? answer.results : [])) };
  });
}

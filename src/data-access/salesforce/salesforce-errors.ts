import { PermanentSyncError, RetryableSyncError, type SyncServiceError } from "../../shared/errors.js";

/** One entry of Salesforce's whole-call error body `[{message, errorCode, fields}]`. */
export interface SalesforceApiError {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** Per-record status codes worth retrying: locks and passing server trouble, not bad data. */
const RETRYABLE_RECORD_CODES = new Set([
  "UNABLE_TO_LOCK_ROW",
  "SERVER_UNAVAILABLE",
  "UNKNOWN_EXCEPTION",
  "REQUEST_RUNNING_TOO_LONG",
  "QUERY_TIMEOUT",
  "TXN_SECURITY_METERING_ERROR",
  // Only seen with allOrNone, when another record failed: this one did nothing wrong.
  "ALL_OR_NONE_OPERATION_ROLLED_BACK",
]);

/** True when a per-record `statusCode` names a failure that retrying can fix. */
export function isRetryableRecordError(statusCode: string): boolean {
  return RETRYABLE_RECORD_CODES.has(statusCode);
}

/** Reads the whole-call error array; tolerates HTML or empty bodies from proxies. */
export function parseApiErrors(text: string): SalesforceApiError[] {
  try {
    const body: unknown = JSON.parse(text);
    const list = Array.isArray(body) ? body : [body];
    return list
      .filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null)
      .map((item) => ({
        message: String(item.message ?? ""),
        errorCode: String(item.errorCode ?? item.error ?? "UNKNOWN"),
        fields: Array.isArray(item.fields) ? item.fields.map(String) : [],
      }));
  } catch {
    return [];
  }
}

/**
 * Whole-call codes that cannot be about one record: the org refuses every write of this kind
 * (an object or permission missing, the API off, read-only maintenance). Retrying the same
 * records cannot help and dead-lettering them would be wrong: the worker pauses instead.
 */
const ORG_WIDE_CODES = new Set([
  "INVALID_TYPE",
  "NOT_FOUND",
  "INSUFFICIENT_ACCESS",
  "INSUFFICIENT_ACCESS_OR_READONLY",
  "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
  "API_DISABLED_FOR_ORG",
  "API_CURRENTLY_DISABLED",
  "FUNCTIONALITY_NOT_ENABLED",
  "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
  "ORG_LOCKED",
  "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
]);

/** True when a whole-call error is the org's, not one record's (a mapped field it lacks included). */
export function isOrgWideError(code: string, message: string): boolean {
  if (ORG_WIDE_CODES.has(code)) return true;
  // "No such column 'X__c' on sobject of type Y__c": a mapped field the org does not have (or cannot see).
  return code === "INVALID_FIELD" && /no such column/i.test(message);
}

/** How long to wait after ConcurrentPerOrgLongTxn: too many long requests at once, gone in seconds. */
const CONCURRENT_LIMIT_RETRY_AFTER_SECONDS = 2;

/**
 * Converts a failed whole call into our error family, once, at the client boundary, saying where
 * the trouble lies: the daily allowance spent (`api_limit`), Salesforce unavailable (`outage`:
 * 5xx, 429, 408), the org refusing writes of this kind (`org`), passing trouble with these
 * records (`record`: locks, ConcurrentPerOrgLongTxn). Other 4xx are permanent: about the records
 * sent (the caller isolates the bad one).
 */
export function toSyncError(operation: string, status: number, text: string): SyncServiceError {
  const errors = parseApiErrors(text);
  const first = errors[0];
  const code = first?.errorCode ?? `http_${status}`;
  const message = `Salesforce ${operation} failed with HTTP ${status}: ${first ? `${first.errorCode} ${first.message}` : text.slice(0, 200)}`;
  if (code === "REQUEST_LIMIT_EXCEEDED") {
    return /TotalRequests/i.test(first?.message ?? "")
      ? new RetryableSyncError(code, message, { scope: "api_limit" })
      : new RetryableSyncError(code, message, { retryAfterSeconds: CONCURRENT_LIMIT_RETRY_AFTER_SECONDS });
  }
  if (status >= 500 || status === 429 || status === 408) {
    return new RetryableSyncError(first ? code : `http_${status}`, message, { scope: "outage" });
  }
  if (isOrgWideError(code, first?.message ?? ""))
    return new RetryableSyncError(code, message, { scope: "org" });
  if (isRetryableRecordError(code)) return new RetryableSyncError(code, message);
  return new PermanentSyncError(code, message);
}

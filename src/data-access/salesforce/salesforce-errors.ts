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
  "REQUEST_LIMIT_EXCEEDED",
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

/** How long to wait after REQUEST_LIMIT_EXCEEDED: the daily limit is a rolling 24 h window. */
export const REQUEST_LIMIT_RETRY_AFTER_SECONDS = 300;

/**
 * Converts a failed whole call into our error family, once, at the client boundary:
 * 403 REQUEST_LIMIT_EXCEEDED, 429, 5xx and lock errors are retryable; other 4xx are permanent.
 */
export function toSyncError(operation: string, status: number, text: string): SyncServiceError {
  const errors = parseApiErrors(text);
  const first = errors[0];
  const code = first?.errorCode ?? `http_${status}`;
  const message = `Salesforce ${operation} failed with HTTP ${status}: ${first ? `${first.errorCode} ${first.message}` : text.slice(0, 200)}`;
  if (code === "REQUEST_LIMIT_EXCEEDED") {
    return new RetryableSyncError(code, message, { retryAfterSeconds: REQUEST_LIMIT_RETRY_AFTER_SECONDS });
  }
  if (status >= 500 || status === 429 || status === 408 || isRetryableRecordError(code)) {
    return new RetryableSyncError(first ? code : `http_${status}`, message);
  }
  return new PermanentSyncError(code, message);
}

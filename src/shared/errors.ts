/** What a failure means for the pipeline: how the edge answers and whether work is retried. */
export type ErrorKind = "signature" | "bad-request" | "permanent" | "retryable" | "config";

/** Base of the project's own errors; `kind` decides status codes and retry behaviour. */
export abstract class SyncServiceError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The Stripe-Signature header is missing, malformed, expired or matches no secret (HTTP 400). */
export class SignatureError extends SyncServiceError {
  readonly kind = "signature";
}

/** The request was authentic but is not a Stripe event we can read (HTTP 400). */
export class BadRequestError extends SyncServiceError {
  readonly kind = "bad-request";
}

/** Retrying cannot help: the message goes to the dead-letter queue with this reason. */
export class PermanentSyncError extends SyncServiceError {
  readonly kind = "permanent";
  /** Short machine-readable reason, e.g. `STRING_TOO_LONG` or `unmappable_payload`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Where a passing failure lies, which decides how the worker waits: `record` (this record or
 * event: a lock, a race, a busy lease; try it again within seconds), `outage` (Salesforce does not
 * answer: stop calling until a probe succeeds), `api_limit` (the org's daily API allowance is
 * spent: pause until usage falls), `org` (the org refuses every write: a mapped field it lacks,
 * permissions, maintenance, credentials; pause, alert, resume when a probe passes).
 */
export type FailureScope = "record" | "outage" | "api_limit" | "org";

/** Options of a RetryableSyncError. */
export interface RetryableOptions {
  cause?: unknown;
  /** Suggested minimum delay before the retry, in seconds (a peer's hint). */
  retryAfterSeconds?: number;
  /** Where the trouble lies (default `record`). */
  scope?: FailureScope;
}

/** A passing failure (network, 5xx, lock, rate limit): the work is kept and retried later. */
export class RetryableSyncError extends SyncServiceError {
  readonly kind = "retryable";
  /** Short machine-readable reason, e.g. `UNABLE_TO_LOCK_ROW` or `http_503`. */
  readonly code: string;
  /** Suggested minimum delay before the retry, in seconds (rate limits want long ones). */
  readonly retryAfterSeconds: number | undefined;
  /** Where the trouble lies; decides how the worker waits. */
  readonly scope: FailureScope;
  constructor(code: string, message: string, options?: RetryableOptions) {
    super(message, options);
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.scope = options?.scope ?? "record";
  }
}

/** A setting is missing or wrong; start-up stops with the variable's name. */
export class ConfigError extends SyncServiceError {
  readonly kind = "config";
}

/** True when `error` is one of ours with the given kind. */
export function isErrorOfKind(error: unknown, kind: ErrorKind): boolean {
  return error instanceof SyncServiceError && error.kind === kind;
}

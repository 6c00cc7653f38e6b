import { PermanentSyncError, RetryableSyncError, type FailureScope } from "../../shared/errors.js";

/** What became of one Stripe event; the worker deletes, keeps or dead-letters its message by it. */
export type EventOutcome =
  /** Written to Salesforce. */
  | { status: "applied" }
  /** Event id already applied: no Salesforce call. */
  | { status: "duplicate" }
  /** Older than what the record already has (or superseded in its batch): nothing changed. */
  | { status: "stale" }
  /** A type without handler, or checkout.session.completed without subscription. */
  | { status: "ignored"; reason: string }
  /**
   * Transient: keep the message and try again. `scope` says how the worker waits: a `record`
   * failure is tried again within seconds; `outage`, `api_limit` and `org` pause consuming until a
   * probe passes. `retryAfterSeconds` is the peer's minimum delay, when it gave one.
   */
  | { status: "retry"; reason: string; scope: FailureScope; detail?: string; retryAfterSeconds?: number }
  /** Permanent: to the dead-letter queue now. */
  | { status: "dead-letter"; reason: string; detail: string };

/** A failure outcome. */
export type FailureOutcome = Extract<EventOutcome, { status: "retry" | "dead-letter" }>;

/** The metrics label of each status (see Metrics.syncEvents). */
export const OUTCOME_LABEL: Record<EventOutcome["status"], string> = {
  applied: "applied",
  duplicate: "duplicate",
  stale: "stale",
  ignored: "ignored",
  retry: "retried",
  "dead-letter": "dead_lettered",
};

/** The outcome of an error: PermanentSyncError dead-letters, anything else is retried. */
export function outcomeOfError(error: unknown): FailureOutcome {
  if (error instanceof PermanentSyncError) {
    return { status: "dead-letter", reason: error.code, detail: `${error.code}: ${error.message}` };
  }
  if (error instanceof RetryableSyncError) {
    return {
      status: "retry",
      reason: error.code,
      scope: error.scope,
      ...(error.scope === "record" ? {} : { detail: error.message }),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  return {
    status: "retry",
    reason: "unexpected_error",
    scope: "record",
    detail: (error as Error)?.message ?? String(error),
  };
}

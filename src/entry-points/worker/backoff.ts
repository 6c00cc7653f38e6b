/** Longest visibility timeout SQS accepts, in seconds (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/**
 * When a record-level failure is tried again. The first `quickAttempts` retries happen inside the
 * worker within seconds (a lock or a busy record clears in milliseconds); after them the message
 * goes back to the queue, hidden for the exponential backoff: the visibility timeout is the safety
 * net, not the schedule.
 */
export interface RetryPolicy {
  /** Retries inside the worker before the queue takes over (default 6). */
  quickAttempts: number;
  /** First quick retry delay, ms, doubling per attempt (default 250). */
  quickBaseMs: number;
  /** Longest quick retry delay, ms (default 5000). */
  quickMaxMs: number;
  /** Queue backoff after the first failed receive, in seconds (default 30). */
  baseSeconds: number;
  /** Largest queue backoff, in seconds (default 900). A longer `retryAfterSeconds` still wins. */
  maxSeconds: number;
}

/** The production schedule: 0.25, 0.5, 1, 2, 4, 5 s in the worker (jittered), then 30 s doubling up to 15 min. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  quickAttempts: 6,
  quickBaseMs: 250,
  quickMaxMs: 5_000,
  baseSeconds: 30,
  maxSeconds: 900,
};

/**
 * The delay of the `attempt`-th quick retry (1-based): `min(base * 2^(attempt-1), max)`, jittered
 * between half and one and a half of it so that contending records do not come back together.
 */
export function quickRetryDelayMs(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.quickBaseMs * 2 ** Math.max(0, attempt - 1), policy.quickMaxMs);
  return Math.round(exponential * (0.5 + random()));
}

/**
 * Seconds to hide a message before its next receive: `min(base * 2^(n-1), max)` for the n-th
 * receive, with "equal jitter" (half fixed, half random) so a burst of failures does not come
 * back at the same instant, raised to `retryAfterSeconds` when the peer asked for longer, capped
 * at the 12 h SQS allows. See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function computeRetryDelaySeconds(
  receiveCount: number,
  options: {
    policy?: Pick<RetryPolicy, "baseSeconds" | "maxSeconds">;
    retryAfterSeconds?: number;
    random?: () => number;
  } = {},
): number {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const random = options.random ?? Math.random;
  const attempt = Number.isFinite(receiveCount) ? Math.max(1, Math.floor(receiveCount)) : 1;
  const exponential = Math.min(policy.baseSeconds * 2 ** Math.min(attempt - 1, 30), policy.maxSeconds);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const wanted = Math.max(jittered, options.retryAfterSeconds ?? 0);
  return Math.min(Math.max(0, Math.round(wanted)), MAX_VISIBILITY_TIMEOUT_SECONDS);
}

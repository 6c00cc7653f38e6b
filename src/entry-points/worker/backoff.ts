/** Longest visibility timeout SQS accepts, in seconds (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

/** Shape of the retry delay curve. */
export interface BackoffPolicy {
  /** Delay after the first failed receive, in seconds (default 30). */
  baseSeconds: number;
  /** Largest computed delay, in seconds (default 900). A longer `retryAfterSeconds` still wins. */
  maxSeconds: number;
}

/** The production curve: 30 s, 60 s, 120 s ... up to 15 minutes. */
export const defaultBackoffPolicy: BackoffPolicy = { baseSeconds: 30, maxSeconds: 900 };

/**
 * Seconds to hide a message before its next attempt: `min(base * 2^(n-1), max)` for the n-th
 * receive, with "equal jitter" (half fixed, half random) so a burst of failures does not come
 * back at the same instant, raised to `retryAfterSeconds` when the peer asked for longer, capped
 * at the 12 h SQS allows. See https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function computeRetryDelaySeconds(
  receiveCount: number,
  options: { policy?: BackoffPolicy; retryAfterSeconds?: number; random?: () => number } = {},
): number {
  const policy = options.policy ?? defaultBackoffPolicy;
  const random = options.random ?? Math.random;
  const attempt = Number.isFinite(receiveCount) ? Math.max(1, Math.floor(receiveCount)) : 1;
  const exponential = Math.min(policy.baseSeconds * 2 ** Math.min(attempt - 1, 30), policy.maxSeconds);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const wanted = Math.max(jittered, options.retryAfterSeconds ?? 0);
  return Math.min(Math.max(0, Math.round(wanted)), MAX_VISIBILITY_TIMEOUT_SECONDS);
}

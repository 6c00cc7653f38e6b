import { Redis } from "ioredis";
import type { Logger } from "../../shared/logger.js";

/** How long one Redis command may take before it fails: a stalled Redis must not hang a batch. */
export const REDIS_COMMAND_TIMEOUT_MS = 2_000;

/**
 * A Redis client for the worker: commands time out after REDIS_COMMAND_TIMEOUT_MS and are retried
 * at most twice across a reconnect, so a stalled or lost Redis turns into a retryable batch
 * failure within seconds (leases run out on their own, and the fenced write and commit refuse to
 * act on a lease that ran out meanwhile).
 */
export function connectRedis(
  url: string,
  options: { password?: string | undefined; logger?: Logger } = {},
): Redis {
  const redis = new Redis(url, {
    ...(options.password ? { password: options.password } : {}),
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on("error", (error: Error) =>
    options.logger?.warn("redis connection error", { error: error.message }),
  );
  return redis;
}

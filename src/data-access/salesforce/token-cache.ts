import { createHash, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { systemClock, type Clock } from "../../shared/clock.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { SalesforceToken } from "./salesforce-auth.js";

/** Where the Salesforce session lives; one token serves every worker sharing the cache. */
export interface TokenCache {
  /** Returns the cached token, or makes `requestToken` fetch one (once across everyone sharing the cache). */
  getToken(requestToken: () => Promise<SalesforceToken>): Promise<SalesforceToken>;
  /** Drops the cached token only if it is still `accessToken` (compare-and-delete), after a 401. */
  invalidate(accessToken: string): Promise<void>;
}

/** The Redis key for one org and user: `sfsync:sf-token:<sha256 of loginUrl, clientId, username>`. */
export function tokenCacheKey(loginUrl: string, clientId: string, username = ""): string {
  const digest = createHash("sha256")
    .update(`${loginUrl}\n${clientId}\n${username}`)
    .digest("hex")
    .slice(0, 32);
  return `sfsync:sf-token:${digest}`;
}

/** Keeps the token in this process only (local mode); concurrent callers share one request. */
export class InMemoryTokenCache implements TokenCache {
  private token: SalesforceToken | undefined;
  private pending: Promise<SalesforceToken> | undefined;

  async getToken(requestToken: () => Promise<SalesforceToken>): Promise<SalesforceToken> {
    if (this.token) return this.token;
    this.pending ??= requestToken()
      .then((token) => (this.token = token))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  async invalidate(accessToken: string): Promise<void> {
    if (this.token?.accessToken === accessToken) this.token = undefined;
  }
}

/** Options of the Redis token cache. */
export interface RedisTokenCacheOptions {
  /** A connected ioredis client; the cache does not close it. */
  redis: Redis;
  /** Key of the token, from `tokenCacheKey()`; the lock is `<key>:lock`. */
  key: string;
  /** How long a token is kept; Salesforce sends no expiry and sessions last 2 h by default (default 3600). */
  ttlSeconds?: number;
  /** Lifetime of the refresh lock, longer than one token request (default 10000). */
  lockTtlMs?: number;
  /** How often a pod waiting on another pod's refresh looks for the token (default 50). */
  pollIntervalMs?: number;
  /** Longest `getToken` waits in total before giving up with a RetryableSyncError (default 30000). */
  maxWaitMs?: number;
  clock?: Clock;
  /** Sleep function, replaceable in tests (default setTimeout). */
  sleep?: (ms: number) => Promise<void>;
}

// Compare-and-delete: a token another pod just refreshed must survive this pod's stale 401.
const DELETE_IF_TOKEN = `
local value = redis.call('GET', KEYS[1])
if value and cjson.decode(value).accessToken == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const DELETE_IF_EQUAL = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

function parseStoredToken(value: string | null): SalesforceToken | undefined {
  if (!value) return undefined;
  try {
    const token = JSON.parse(value) as SalesforceToken;
    return typeof token.accessToken === "string" && typeof token.instanceUrl === "string" ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Shares the token among every pod through Redis. A `SET NX PX` lock makes sure pods starting
 * together make one token request: the holder fetches and stores, the others poll until the token
 * appears or the lock lapses. Each instance also keeps the token in memory to spare a Redis
 * round trip per call; a 401 clears both.
 */
export class RedisTokenCache implements TokenCache {
  private readonly options: Required<Omit<RedisTokenCacheOptions, "redis" | "key">>;
  private local: SalesforceToken | undefined;
  private pending: Promise<SalesforceToken> | undefined;

  constructor(private readonly config: RedisTokenCacheOptions) {
    this.options = {
      ttlSeconds: config.ttlSeconds ?? 3600,
      lockTtlMs: config.lockTtlMs ?? 10000,
      pollIntervalMs: config.pollIntervalMs ?? 50,
      maxWaitMs: config.maxWaitMs ?? 30000,
      clock: config.clock ?? systemClock,
      sleep: config.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    };
  }

  async getToken(requestToken: () => Promise<SalesforceToken>): Promise<SalesforceToken> {
    if (this.local) return this.local;
    this.pending ??= this.fetchShared(requestToken)
      .then((token) => (this.local = token))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  async invalidate(accessToken: string): Promise<void> {
    if (this.local?.accessToken === accessToken) this.local = undefined;
    await this.redisCall(() => this.config.redis.eval(DELETE_IF_TOKEN, 1, this.config.key, accessToken));
  }

  private async fetchShared(requestToken: () => Promise<SalesforceToken>): Promise<SalesforceToken> {
    const { redis, key } = this.config;
    const lockKey = `${key}:lock`;
    const deadline = this.options.clock.now() + this.options.maxWaitMs;
    for (;;) {
      const cached = parseStoredToken(await this.redisCall(() => redis.get(key)));
      if (cached) return cached;
      const lockValue = randomUUID();
      const locked = await this.redisCall(() =>
        redis.set(lockKey, lockValue, "PX", this.options.lockTtlMs, "NX"),
      );
      if (locked === "OK") {
        try {
          // Another pod may have stored a token between our GET and our lock.
          const raced = parseStoredToken(await this.redisCall(() => redis.get(key)));
          if (raced) return raced;
          const token = await requestToken();
          await this.redisCall(() => redis.set(key, JSON.stringify(token), "EX", this.options.ttlSeconds));
          return token;
        } finally {
          await this.redisCall(() => redis.eval(DELETE_IF_EQUAL, 1, lockKey, lockValue)).catch(
            () => undefined,
          );
        }
      }
      // Someone else is refreshing: wait for their token, or for their lock to go (failure, crash).
      for (;;) {
        if (this.options.clock.now() > deadline) {
          throw new RetryableSyncError(
            "token_cache_timeout",
            "timed out waiting for another worker's Salesforce token",
          );
        }
        await this.options.sleep(this.options.pollIntervalMs);
        const [token, lockHolder] = await this.redisCall(() => redis.mget(key, lockKey));
        const stored = parseStoredToken(token ?? null);
        if (stored) return stored;
        if (!lockHolder) break;
      }
    }
  }

  private async redisCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw new RetryableSyncError("redis_unavailable", `token cache: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

import type { Redis } from "ioredis";
import { sleep, systemClock, type Clock } from "../../shared/clock.js";
import { toStoreError } from "./store-errors.js";

/** A rate shared by everyone who takes from the bucket: `capacity` tokens, refilled at `perSecond`. */
export interface BucketRate {
  capacity: number;
  perSecond: number;
}

/** Takes tokens from a bucket shared by every replica; waits while it is empty. */
export interface TokenBucket {
  /**
   * Takes one token, waiting as long as the bucket needs to refill (`onWait` hears how long, ms,
   * before each wait). Resolves with the total time waited, ms.
   */
  take(onWait?: (waitMs: number) => void): Promise<number>;
}

/**
 * Takes one token from the bucket at KEYS[1] (hash tokens/ts), refilled at ARGV[2] tokens per ms
 * up to ARGV[1], on Redis's own clock (one clock for every replica). A missing bucket (new, or a
 * Redis that was lost) starts with ARGV[3] tokens. Answers 0 when a token was taken, else the ms
 * to wait for one. The key expires once a full refill would have passed.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = tonumber(ARGV[3]); ts = now end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * perMs)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / perMs) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / perMs) + 60000)
return wait
`;

/** A bucket in Redis, shared by every replica that names the same key. */
export class RedisTokenBucket implements TokenBucket {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly rate: BucketRate,
    private readonly options: {
      clock?: Clock;
      /** Tokens a missing bucket starts with (default: full). */
      initialTokens?: () => number;
    } = {},
  ) {}

  async take(onWait?: (waitMs: number) => void): Promise<number> {
    const clock = this.options.clock ?? systemClock;
    let waited = 0;
    for (;;) {
      let wait: number;
      try {
        const initial = this.options.initialTokens?.() ?? this.rate.capacity;
        wait = Number(
          await this.redis.eval(
            TAKE_SCRIPT,
            1,
            this.key,
            this.rate.capacity,
            this.rate.perSecond / 1000,
            initial,
          ),
        );
      } catch (error) {
        throw toStoreError(error);
      }
      if (wait <= 0) return waited;
      onWait?.(wait);
      await sleep(clock, wait);
      waited += wait;
    }
  }
}

/** A bucket in this process only (local mode, tests). */
export class MemoryTokenBucket implements TokenBucket {
  private tokens: number;
  private at: number;
  private readonly clock: Clock;

  constructor(
    private readonly rate: BucketRate,
    options: { clock?: Clock; initialTokens?: number } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.tokens = options.initialTokens ?? rate.capacity;
    this.at = this.clock.now();
  }

  async take(onWait?: (waitMs: number) => void): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = this.clock.now();
      this.tokens = Math.min(
        this.rate.capacity,
        this.tokens + ((now - this.at) * this.rate.perSecond) / 1000,
      );
      this.at = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return waited;
      }
      const wait = Math.ceil(((1 - this.tokens) * 1000) / this.rate.perSecond);
      onWait?.(wait);
      await sleep(this.clock, wait);
      waited += wait;
    }
  }
}

import type { Redis } from "ioredis";
import { systemClock, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { MemoryTokenBucket, RedisTokenBucket, type TokenBucket } from "../store/token-bucket.js";

/** The daily allowance this service may spend, shared by every replica. */
export interface ApiBudget {
  /** Waits until one more Salesforce call fits the budget; never fails for budget reasons. */
  beforeCall(): Promise<void>;
  /** While calls wait for the budget: since when and why, for readiness. */
  throttled(): string | undefined;
}

/** How long after its last wait the budget still reports itself throttling, ms. */
const THROTTLE_REPORT_MS = 60_000;

/** Options of the daily budget. */
export interface ApiBudgetOptions {
  /** Calls this service may make per rolling 24 hours (SALESFORCE_DAILY_API_BUDGET). */
  dailyCalls: number;
  /** Shared by every replica; without it, this process only. */
  redis: Redis | undefined;
  /** Key prefix of the bucket and the usage counters (carries the org id once known). */
  keyPrefix: () => string;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /**
   * The org's daily API usage as last seen (Sforce-Limit-Info), all integrations included: the
   * upper bound of this service's own usage when its count is lost with Redis.
   */
  orgUsed(): number | undefined;
}

/**
 * A daily API budget as a token bucket shared in Redis: it refills at `dailyCalls` per 24 hours
 * and holds at most an hour's worth, so calls are spread over the day instead of spent in one
 * burst; a bucket lost with Redis restarts with no more than what the org-wide usage leaves of the
 * budget. Calls wait for a token (the worker keeps receiving meanwhile, so its groups grow and
 * each call carries more); usage over the last 24 hours is counted per hour for the metrics.
 */
export function createApiBudget(options: ApiBudgetOptions): ApiBudget {
  const clock = options.clock ?? systemClock;
  const rate = { capacity: Math.max(5, options.dailyCalls / 24), perSecond: options.dailyCalls / 86_400 };
  const initialTokens = () =>
    Math.min(rate.capacity, Math.max(0, options.dailyCalls - (options.orgUsed() ?? 0)));
  // Made at the first call, not here: the org's usage is known only once Salesforce answered.
  let memoryBucket: MemoryTokenBucket | undefined;
  const bucket = (): TokenBucket =>
    options.redis
      ? new RedisTokenBucket(options.redis, `${options.keyPrefix()}budget:bucket`, rate, {
          clock,
          initialTokens,
        })
      : (memoryBucket ??= new MemoryTokenBucket(rate, { clock, initialTokens: initialTokens() }));
  const hourKey = (hour: number) => `${options.keyPrefix()}budget:used:${hour}`;
  const localHours = new Map<number, number>();
  let lastWaitAt: number | undefined;
  let lastWarnAt = 0;
  options.metrics.salesforceApiBudget.set({ kind: "limit" }, options.dailyCalls);

  const countCall = async (): Promise<void> => {
    const hour = Math.floor(clock.now() / 3_600_000);
    let used: number;
    if (options.redis) {
      const pipeline = options.redis
        .pipeline()
        .incr(hourKey(hour))
        .expire(hourKey(hour), 25 * 3600);
      await pipeline.exec();
      const counts = await options.redis.mget(...Array.from({ length: 24 }, (_, i) => hourKey(hour - i)));
      used = counts.reduce((sum, count) => sum + Number(count ?? 0), 0);
    } else {
      localHours.set(hour, (localHours.get(hour) ?? 0) + 1);
      for (const past of localHours.keys()) if (past <= hour - 24) localHours.delete(past);
      used = [...localHours.values()].reduce((sum, count) => sum + count, 0);
    }
    options.metrics.salesforceApiBudget.set({ kind: "used" }, used);
    options.metrics.salesforceApiBudget.set({ kind: "remaining" }, Math.max(0, options.dailyCalls - used));
  };

  return {
    async beforeCall() {
      const waited = await bucket().take((waitMs) => {
        lastWaitAt = clock.now();
        if (lastWaitAt - lastWarnAt > THROTTLE_REPORT_MS) {
          lastWarnAt = lastWaitAt;
          options.logger.warn(
            "Salesforce calls wait for the daily API budget (SALESFORCE_DAILY_API_BUDGET)",
            {
              dailyCalls: options.dailyCalls,
              waitMs,
            },
          );
        }
      });
      if (waited > 0) options.metrics.apiBudgetWait.inc(waited / 1000);
      await countCall().catch(() => undefined);
    },
    throttled() {
      if (lastWaitAt === undefined || clock.now() - lastWaitAt > THROTTLE_REPORT_MS) return undefined;
      return `calls wait for the daily API budget of ${options.dailyCalls} (SALESFORCE_DAILY_API_BUDGET)`;
    },
  };
}

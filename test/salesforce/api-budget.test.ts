import { expect } from "chai";
import { Redis } from "ioredis";
import { createApiBudget } from "../../src/data-access/salesforce/api-budget.js";
import { MemoryTokenBucket, RedisTokenBucket } from "../../src/data-access/store/token-bucket.js";
import { rateLimitedReader } from "../../src/data-access/stripe/rate-limited-reader.js";
import { createLogger } from "../../src/shared/logger.js";
import { createMetrics } from "../../src/shared/metrics.js";
import { ManualClock } from "../support/manual-clock.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { metricValue } from "./salesforce-test-kit.js";

const logger = createLogger({ silent: true });

/** Starts `count` takes and reports how many resolved so far. */
function takes(take: () => Promise<unknown>, count: number): { done: () => number } {
  let done = 0;
  for (let i = 0; i < count; i++) void take().then(() => (done += 1));
  return { done: () => done };
}

describe("shared rate limits", () => {
  describe("the daily Salesforce API budget", () => {
    it("spends at most an hour's worth at once, then one call per refill interval, and never fails a call", async () => {
      const clock = new ManualClock();
      const metrics = createMetrics({ collectDefaults: false });
      // 240 calls a day: 10 at once, then one every 6 minutes.
      const budget = createApiBudget({
        dailyCalls: 240,
        redis: undefined,
        keyPrefix: () => "t:",
        metrics,
        logger,
        clock,
        orgUsed: () => 0,
      });
      const calls = takes(() => budget.beforeCall(), 13);
      await clock.advance(0);
      expect(calls.done()).to.equal(10);
      expect(budget.throttled()).to.match(/daily API budget of 240/);
      await clock.advance(6 * 60_000);
      expect(calls.done()).to.equal(11);
      await clock.advance(12 * 60_000);
      expect(calls.done()).to.equal(13);
      expect(await metricValue(metrics.salesforceApiBudget, { kind: "used" })).to.equal(13);
      expect(await metricValue(metrics.salesforceApiBudget, { kind: "remaining" })).to.equal(227);
      expect((await metrics.apiBudgetWait.get()).values[0]?.value).to.be.greaterThan(0);
    });

    it("after Redis lost its count, starts from what the org-wide usage leaves of the budget", async () => {
      const clock = new ManualClock();
      const budget = createApiBudget({
        dailyCalls: 240,
        redis: undefined,
        keyPrefix: () => "t:",
        metrics: createMetrics({ collectDefaults: false }),
        logger,
        clock,
        // Other integrations spent almost all of it: 236 of the org's calls today.
        orgUsed: () => 236,
      });
      const calls = takes(() => budget.beforeCall(), 6);
      await clock.advance(0);
      expect(calls.done()).to.equal(4);
    });
  });

  describe("on a real redis-server", () => {
    let server: RedisServer;
    let redis: Redis;
    before(async () => {
      server = await startRedisServer();
      redis = new Redis(server.url);
    });
    after(async () => {
      redis.disconnect();
      await server.stop();
    });

    it("one bucket is shared by every replica that names it", async () => {
      const rate = { capacity: 3, perSecond: 0.001 };
      const a = new RedisTokenBucket(redis, "shared:bucket", rate);
      const b = new RedisTokenBucket(redis, "shared:bucket", rate);
      const waits: number[] = [];
      expect(await a.take()).to.equal(0);
      expect(await b.take()).to.equal(0);
      expect(await a.take()).to.equal(0);
      // The fourth token, from either replica, needs a refill.
      const fourth = b.take((waitMs) => waits.push(waitMs));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(waits.length).to.equal(1);
      expect(waits[0]).to.be.greaterThan(900);
      void fourth;
    });

    it("a bucket Redis lost starts with the tokens it is told, not a full one", async () => {
      const bucket = new RedisTokenBucket(
        redis,
        "lost:bucket",
        { capacity: 100, perSecond: 0.001 },
        {
          initialTokens: () => 1,
        },
      );
      expect(await bucket.take()).to.equal(0);
      const waits: number[] = [];
      void bucket.take((waitMs) => waits.push(waitMs));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(waits).to.have.length(1);
    });

    it("the daily budget counts the calls of every replica", async () => {
      const metrics = createMetrics({ collectDefaults: false });
      const make = () =>
        createApiBudget({
          dailyCalls: 100_000,
          redis,
          keyPrefix: () => "org1:",
          metrics,
          logger,
          orgUsed: () => undefined,
        });
      const [one, two] = [make(), make()];
      await one.beforeCall();
      await two.beforeCall();
      await one.beforeCall();
      expect(await metricValue(metrics.salesforceApiBudget, { kind: "used" })).to.equal(3);
    });
  });

  describe("Stripe reads", () => {
    it("wait for the shared bucket: no more reads per second than the bucket allows", async () => {
      const clock = new ManualClock();
      const reads: string[] = [];
      const read = async (id: string) => {
        reads.push(id);
        return { id };
      };
      const bucket = new MemoryTokenBucket({ capacity: 20, perSecond: 20 }, { clock });
      const reader = rateLimitedReader(
        {
          retrieveCustomer: read,
          retrieveSubscription: read,
          retrievePaymentIntent: read,
          retrieveCheckoutSession: read,
        },
        () => bucket,
      );
      const all = Array.from({ length: 50 }, (_, i) => reader.retrieveCustomer(`cus_${i}`));
      await clock.advance(0);
      expect(reads).to.have.length(20);
      await clock.advance(1000);
      expect(reads).to.have.length(40);
      await clock.advance(500);
      expect(reads).to.have.length(50);
      await Promise.all(all);
    });

    it("take from their account's bucket: a connected account's reads do not wait for the platform's", async () => {
      const clock = new ManualClock();
      const reads: string[] = [];
      const read = async (id: string, account?: string) => {
        reads.push(`${account ?? "platform"}/${id}`);
        return { id };
      };
      const buckets = new Map<string, MemoryTokenBucket>();
      const reader = rateLimitedReader(
        {
          retrieveCustomer: read,
          retrieveSubscription: read,
          retrievePaymentIntent: read,
          retrieveCheckoutSession: read,
        },
        (account) => {
          const key = account ?? "platform";
          if (!buckets.has(key))
            buckets.set(key, new MemoryTokenBucket({ capacity: 5, perSecond: 5 }, { clock }));
          return buckets.get(key)!;
        },
      );
      const platform = Array.from({ length: 10 }, (_, i) => reader.retrieveCustomer(`cus_p${i}`));
      const connected = Array.from({ length: 5 }, (_, i) =>
        reader.retrieveCustomer(`cus_c${i}`, "acct_1Connected"),
      );
      await clock.advance(0);
      expect(reads.filter((r) => r.startsWith("platform/"))).to.have.length(5);
      expect(reads.filter((r) => r.startsWith("acct_1Connected/"))).to.have.length(5);
      await clock.advance(1000);
      expect(reads).to.have.length(15);
      await Promise.all([...platform, ...connected]);
    });
  });
});

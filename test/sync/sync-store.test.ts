import { expect } from "chai";
import { Redis } from "ioredis";
import { MemorySyncStore } from "../../src/data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../../src/data-access/store/redis-sync-store.js";
import type { SyncStore } from "../../src/domain/sync/sync-store-port.js";
import { isErrorOfKind } from "../../src/shared/errors.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { mergeRecordState } from "../../src/domain/sync/ordering.js";
import type { RecordState } from "../../src/domain/sync/sync-store-port.js";
import { ORDERING_CASES } from "./ordering-cases.js";
import { TestClock, createTestSync, loadEvent } from "./support/sync-fixtures.js";

const TTL = 35 * 86400;
const KEY = "Stripe_Subscription__c:sub_1";

/** The behaviour every SyncStore shares; `create` gives a fresh, empty store. */
function describeSyncStore(name: string, create: () => Promise<SyncStore>) {
  describe(`${name} sync store`, () => {
    let store: SyncStore;
    beforeEach(async () => {
      store = await create();
    });

    it("remembers applied event ids and reports only those", async () => {
      await store.commit({ appliedEventIds: ["evt_1", "evt_2"], eventTtlSeconds: TTL, records: [] });
      expect(await store.findAppliedEvents(["evt_1", "evt_3", "evt_2"])).to.deep.equal(
        new Set(["evt_1", "evt_2"]),
      );
      expect(await store.findAppliedEvents([])).to.deep.equal(new Set());
    });

    it("knows no record before its first write", async () => {
      expect(await store.getRecordStates([KEY])).to.deep.equal(new Map());
    });

    for (const ordering of ORDERING_CASES) {
      it(`ordering: ${ordering.name}`, async () => {
        for (const update of ordering.updates)
          await store.commit({
            appliedEventIds: [],
            eventTtlSeconds: TTL,
            records: [{ key: KEY, ...update }],
          });
        expect((await store.getRecordStates([KEY])).get(KEY)).to.deep.equal(ordering.expected);
      });
    }

    it("marks a parent stub written without any event stamp", async () => {
      const parent = "Stripe_Customer__c:cus_1";
      await store.commit({ appliedEventIds: [], eventTtlSeconds: TTL, records: [{ key: parent }] });
      expect(await store.getRecordStates([parent, KEY])).to.deep.equal(
        new Map([[parent, { exists: true, isFinal: false }]]),
      );
    });
  });
}

describe("the ordering rule of the domain", () => {
  for (const ordering of ORDERING_CASES) {
    it(ordering.name, () => {
      let state: RecordState | undefined;
      for (const update of ordering.updates) state = mergeRecordState(state, { key: KEY, ...update });
      expect(state).to.deep.equal(ordering.expected);
    });
  }
});

describeSyncStore("memory", async () => new MemorySyncStore());

describe("memory sync store expiry", () => {
  it("forgets applied event ids after their TTL", async () => {
    const clock = new TestClock();
    const store = new MemorySyncStore({ clock });
    await store.commit({ appliedEventIds: ["evt_1"], eventTtlSeconds: 60, records: [] });
    clock.ms += 61_000;
    expect(await store.findAppliedEvents(["evt_1"])).to.deep.equal(new Set());
  });
});

describe("with a real redis-server", () => {
  let server: RedisServer;
  let redis: Redis;
  let prefix = 0;
  before(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  describeSyncStore("redis", async () => new RedisSyncStore(redis, { keyPrefix: `t${prefix++}:sfsync:` }));

  it("keys live under sfsync: with the idempotency TTL on event ids and a TTL on records", async () => {
    const store = new RedisSyncStore(redis, { recordTtlSeconds: 1000 });
    await store.commit({
      appliedEventIds: ["evt_ttl"],
      eventTtlSeconds: 3024000,
      records: [
        { key: "Payment_Transaction__c:pi_1", isFinal: true, last: { created: 1, eventId: "evt_ttl" } },
      ],
    });
    const eventTtl = await redis.ttl("sfsync:event:evt_ttl");
    const recordTtl = await redis.ttl("sfsync:record:Payment_Transaction__c:pi_1");
    expect(eventTtl).to.be.within(3023990, 3024000);
    expect(recordTtl).to.be.within(990, 1000);
  });

  it("the syncer on Redis skips a redelivered event and a stale update without a Salesforce call", async () => {
    const test = createTestSync({ store: new RedisSyncStore(redis, { keyPrefix: "syncer:sfsync:" }) });
    const newer = loadEvent("customer.subscription.updated", { id: "evt_newer", created: 2000 });
    const older = loadEvent("customer.subscription.updated", {
      id: "evt_older",
      created: 1000,
      object: { status: "past_due" },
    });
    expect(await test.sync(newer)).to.deep.equal([{ status: "applied" }]);
    const calls = test.writer.calls.length;
    expect(await test.sync(newer, older)).to.deep.equal([{ status: "duplicate" }, { status: "stale" }]);
    expect(test.writer.calls.length).to.equal(calls);
    expect(test.writer.row("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf")?.Status__c).to.equal("active");
  });

  it("a Redis that does not answer makes store calls fail as retryable", async () => {
    const dead = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => undefined);
    const store = new RedisSyncStore(dead);
    const error = await store.findAppliedEvents(["evt_1"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    dead.disconnect();
    expect(isErrorOfKind(error, "retryable")).to.equal(true);
  });
});

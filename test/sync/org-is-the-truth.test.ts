import { expect } from "chai";
import { Redis } from "ioredis";
import { MemorySyncStore } from "../../src/data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../../src/data-access/store/redis-sync-store.js";
import type { StoreCommit, SyncStore } from "../../src/domain/sync/sync-store-port.js";
import { RetryableSyncError } from "../../src/shared/errors.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";

const CUSTOMER = "Stripe_Customer__c";
const SUBSCRIPTION = "Stripe_Subscription__c";
const PAYMENT = "Payment_Transaction__c";
const CUS_ID = "cus_NeverSeen00001";
const SUB_ID = "sub_1QxSub0001AbCdEf";
const PI_ID = "pi_3QxPiKwd01AbCdEf";

/** Records an admin loaded before the middleware ever ran (or that a lost Redis forgot). */
function preloadedOrg(test: ReturnType<typeof createTestSync>) {
  test.writer.preload(CUSTOMER, "Stripe_Customer_Id__c", {
    Stripe_Customer_Id__c: CUS_ID,
    Name: "Ada Lovelace",
    Email__c: "ada@example.com",
    Last_Stripe_Event_Id__c: "evt_cus_loaded",
    Last_Stripe_Event_At__c: "2025-01-01T00:00:00.000Z",
  });
  test.writer.preload(SUBSCRIPTION, "Stripe_Subscription_Id__c", {
    Stripe_Subscription_Id__c: SUB_ID,
    Status__c: "active",
    Sync_Status__c: "Completed",
    Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
    Last_Stripe_Event_Id__c: "evt_sub_loaded",
    Last_Stripe_Event_At__c: "2025-01-01T01:00:00.000Z",
  });
  test.writer.preload(PAYMENT, "Stripe_Payment_Intent_Id__c", {
    Stripe_Payment_Intent_Id__c: PI_ID,
    Status__c: "Succeeded",
    Amount__c: 12.345,
    Last_Stripe_Event_Id__c: "evt_pi_loaded",
    Last_Stripe_Event_At__c: "2025-01-01T02:00:00.000Z",
  });
}

/** Rows written by upsert calls, as `object:externalId` per call. */
function writtenKeys(test: ReturnType<typeof createTestSync>): string[] {
  return test.writer.calls.flatMap((call) =>
    call.records.map((record) => `${call.objectName}:${String(record[call.externalIdField])}`),
  );
}

describe("the org is the truth: the store is a cache", () => {
  describe("an org that already holds records, and an empty store", () => {
    it("a payment for a customer the org has does not rename the customer with a stub", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      const event = loadEvent("payment_intent.payment_failed", {
        id: "evt_new_payment",
        created: 1_800_000_000,
        object: { id: "pi_new_1" },
      });
      expect(await test.sync(event)).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal([PAYMENT]);
      expect(test.writer.row(CUSTOMER, CUS_ID)?.Name).to.equal("Ada Lovelace");
    });

    it("a subscription Completed in the org stays Completed: an update never sends Pending", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      const update = loadEvent("customer.subscription.updated", {
        id: "evt_sub_later",
        created: 1_800_000_000,
        object: { status: "past_due" },
      });
      expect(await test.sync(update)).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.calls.flatMap((c) => c.records)[0]).to.not.have.property("Sync_Status__c");
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Sync_Status__c: "Completed",
        Status__c: "past_due",
      });
    });

    it("an older payment_failed over a Succeeded payment changes nothing and writes nothing", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      const failed = loadEvent("payment_intent.payment_failed", {
        id: "evt_old_failure",
        created: 1_700_000_000,
      });
      expect(await test.sync(failed)).to.deep.equal([{ status: "stale" }]);
      expect(test.writer.calls).to.have.length(0);
      expect(test.writer.row(PAYMENT, PI_ID)?.Status__c).to.equal("Succeeded");
    });

    it("even a newer payment_failed leaves a Succeeded payment as it is", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      const failed = loadEvent("payment_intent.payment_failed", {
        id: "evt_new_failure",
        created: 1_800_000_000,
      });
      expect(await test.sync(failed)).to.deep.equal([{ status: "stale" }]);
      expect(test.writer.calls).to.have.length(0);
    });

    it("the checkout that completed the subscription writes nothing when delivered again", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      expect(await test.sync(loadEvent("checkout.session.completed"))).to.deep.equal([
        { status: "duplicate" },
      ]);
      expect(test.writer.calls).to.have.length(0);
    });

    it("the event in Last_Stripe_Event_Id__c is a duplicate", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      const replay = loadEvent("customer.subscription.updated", {
        id: "evt_sub_loaded",
        created: 1_735_693_200,
      });
      expect(await test.sync(replay)).to.deep.equal([{ status: "duplicate" }]);
      expect(test.writer.calls).to.have.length(0);
    });
  });

  describe("what it costs", () => {
    it("an empty store costs one query per object per batch, never one per record", async () => {
      const test = createTestSync();
      const events = Array.from({ length: 50 }, (_, i) =>
        loadEvent("payment_intent.succeeded", {
          id: `evt_cold_${i}`,
          object: { id: `pi_cold_${i}`, customer: `cus_cold_${i}` },
        }),
      );
      await test.sync(...events);
      expect(test.writer.reads).to.have.length(1);
      expect(test.writer.reads[0]?.map((q) => [q.objectName, q.externalIds.length])).to.have.deep.members([
        [PAYMENT, 50],
        [CUSTOMER, 50],
      ]);
    });

    it("a warm store costs no read at all", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.updated", { id: "evt_warm_1", created: 1000 }));
      const reads = test.writer.reads.length;
      await test.sync(loadEvent("customer.updated", { id: "evt_warm_2", created: 2000 }));
      expect(test.writer.reads.length).to.equal(reads);
    });

    it("what the org answered warms the store: the next event for the record reads nothing", async () => {
      const test = createTestSync();
      preloadedOrg(test);
      await test.sync(
        loadEvent("payment_intent.payment_failed", { id: "evt_stale_once", created: 1_700_000_000 }),
      );
      const reads = test.writer.reads.length;
      const again = loadEvent("payment_intent.payment_failed", {
        id: "evt_stale_twice",
        created: 1_700_000_001,
      });
      expect(await test.sync(again)).to.deep.equal([{ status: "stale" }]);
      expect(test.writer.reads.length).to.equal(reads);
    });
  });

  describe("a worker that died between Salesforce's answer and its commit", () => {
    /** A memory store whose fenced commits fail once (the worker "died" right after its writes). */
    function dyingOnce(): { store: SyncStore; revive: () => void } {
      const store = new MemorySyncStore();
      let isDying = true;
      return {
        revive: () => void (isDying = false),
        store: {
          findAppliedEvents: (ids) => store.findAppliedEvents(ids),
          getRecordStates: (keys) => store.getRecordStates(keys),
          commit: (commit) => store.commit(commit),
          openLeases: (options) => {
            const leases = store.openLeases(options);
            return {
              get held() {
                return leases.held;
              },
              acquire: (keys) => leases.acquire(keys),
              renew: () => leases.renew(),
              beginWrite: (keys) => leases.beginWrite(keys),
              commit: async (commit: StoreCommit) => {
                if (isDying) throw new RetryableSyncError("store_unavailable", "died before the commit");
                await leases.commit(commit);
              },
              release: () => leases.release(),
            };
          },
        },
      };
    }

    it("its redelivered events write nothing again", async () => {
      const { store, revive } = dyingOnce();
      const test = createTestSync({ store });
      const events = [
        loadEvent("customer.updated", { id: "evt_die_1", created: 1000 }),
        loadEvent("payment_intent.succeeded", { id: "evt_die_2", created: 1000 }),
      ];
      const first = await test.sync(...events);
      expect(first.map((o) => o.status)).to.deep.equal(["retry", "retry"]);
      const writes = test.writer.calls.length;
      revive();
      expect(await test.syncRedelivered(...events)).to.deep.equal([
        { status: "duplicate" },
        { status: "duplicate" },
      ]);
      expect(test.writer.calls.length).to.equal(writes);
    });

    it("an older event arriving first (not a redelivery) is judged by the org, not by the stale store", async () => {
      const { store, revive } = dyingOnce();
      const test = createTestSync({ store });
      revive();
      await test.sync(loadEvent("customer.updated", { id: "evt_v1", created: 1000, object: { name: "v1" } }));
      const { store: dying } = dyingOnce();
      // The same records, a second worker whose commit dies: the store never learns of v3.
      const second = createTestSync({ store: wrapCommitFailure(store), writer: test.writer });
      await second.sync(
        loadEvent("customer.updated", { id: "evt_v3", created: 3000, object: { name: "v3" } }),
      );
      void dying;
      const writes = writtenKeys(test).length;
      expect(
        await test.sync(
          loadEvent("customer.updated", { id: "evt_v2", created: 2000, object: { name: "v2" } }),
        ),
      ).to.deep.equal([{ status: "stale" }]);
      expect(writtenKeys(test).length).to.equal(writes);
      expect(test.writer.row(CUSTOMER, "cus_RnQk1aB2cD3eF4")?.Name).to.equal("v3");
    });
  });

  describe("leases that cannot be outlived", () => {
    it("a batch that lost its lease before writing writes nothing and retries", async () => {
      const inner = new MemorySyncStore();
      const store: SyncStore = {
        findAppliedEvents: (ids) => inner.findAppliedEvents(ids),
        getRecordStates: (keys) => inner.getRecordStates(keys),
        commit: (commit) => inner.commit(commit),
        openLeases: (options) => {
          const leases = inner.openLeases(options);
          return {
            get held() {
              return leases.held;
            },
            acquire: (keys) => leases.acquire(keys),
            renew: () => leases.renew(),
            beginWrite: async () => {
              throw new RetryableSyncError("lease_lost", "a record lease ran out");
            },
            commit: (commit) => leases.commit(commit),
            release: () => leases.release(),
          };
        },
      };
      const test = createTestSync({ store });
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([
        { status: "retry", reason: "lease_lost", scope: "record" },
      ]);
      expect(test.writer.calls).to.have.length(0);
    });
  });

  describe("keys per org, on a real redis-server", () => {
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

    it("the same Redis pointed at another org does not take that org's events for duplicates", async () => {
      const orgA = new RedisSyncStore(redis);
      orgA.scopeTo("00DA0000000000A");
      const a = createTestSync({ store: orgA });
      await a.sync(loadEvent("customer.updated"));
      expect(await redis.keys("sfsync:00DA0000000000A:event:*")).to.have.length(1);

      const orgB = new RedisSyncStore(redis);
      orgB.scopeTo("00DB0000000000B");
      const b = createTestSync({ store: orgB });
      expect(await b.sync(loadEvent("customer.updated"))).to.deep.equal([{ status: "applied" }]);
      expect(b.writer.row(CUSTOMER, "cus_RnQk1aB2cD3eF4")).to.not.equal(undefined);
    });
  });
});

/** A store whose fenced commits always fail: a worker that dies after every write. */
function wrapCommitFailure(store: SyncStore): SyncStore {
  return {
    findAppliedEvents: (ids) => store.findAppliedEvents(ids),
    getRecordStates: (keys) => store.getRecordStates(keys),
    commit: (commit) => store.commit(commit),
    openLeases: (options) => {
      const leases = store.openLeases(options);
      return {
        get held() {
          return leases.held;
        },
        acquire: (keys) => leases.acquire(keys),
        renew: () => leases.renew(),
        beginWrite: (keys) => leases.beginWrite(keys),
        commit: async () => {
          throw new RetryableSyncError("store_unavailable", "died before the commit");
        },
        release: () => leases.release(),
      };
    },
  };
}

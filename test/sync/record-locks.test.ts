import { expect } from "chai";
import { Redis } from "ioredis";
import type { UpsertAnswer, UpsertRequest } from "../../src/domain/sync/salesforce-port.js";
import { MemorySyncStore } from "../../src/data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../../src/data-access/store/redis-sync-store.js";
import {
  recordKey,
  type LeaseOptions,
  type RecordLeases,
  type SyncStore,
} from "../../src/domain/sync/sync-store-port.js";
import type { StripeObjectReader } from "../../src/domain/sync/stripe-port.js";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { defaultMapping } from "../../src/domain/sync/mapping.js";
import { createEventSyncer, type EventOutcome } from "../../src/domain/sync/sync-events.js";
import { isErrorOfKind } from "../../src/shared/errors.js";
import { createMetrics } from "../../src/shared/metrics.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { FakeSalesforceWriter } from "./support/fake-salesforce-writer.js";
import { TestClock, itemsOf, loadEvent, log } from "./support/sync-fixtures.js";

const CUSTOMER = "Stripe_Customer__c";
const SUBSCRIPTION = "Stripe_Subscription__c";
const PAYMENT = "Payment_Transaction__c";
const SUB_ID = "sub_1QxSub0001AbCdEf";
const PI_ID = "pi_3QxPi0001AbCdEfGh";
const CUS_ID = "cus_RnQk1aB2cD3eF4";
const SUB_KEY = recordKey(SUBSCRIPTION, SUB_ID);
const BUSY: EventOutcome = { status: "retry", reason: "record_busy", scope: "record" };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A fake Salesforce that answers each call after a delay chosen by the event the call carries
 * (Last_Stripe_Event_Id__c), so two syncEvents calls overlap and the slow one lands last.
 */
class SlowWriter extends FakeSalesforceWriter {
  private calledFirst: () => void = () => undefined;
  /** Resolves on the first upsert: the first batch holds its leases by then. */
  readonly firstCall = new Promise<void>((resolve) => (this.calledFirst = resolve));

  constructor(private readonly delays: Record<string, number>) {
    super();
  }

  override async upsertMany(requests: readonly UpsertRequest[]): Promise<UpsertAnswer[]> {
    const delay = Math.max(
      5,
      ...requests.flatMap((request) =>
        request.records.map((record) => this.delays[String(record.Last_Stripe_Event_Id__c)] ?? 0),
      ),
    );
    this.calledFirst();
    await sleep(delay);
    return super.upsertMany(requests);
  }
}

/** A store that grants every lease without locking: the syncer as it was before leases. */
function withoutLocks(store: SyncStore): SyncStore {
  return {
    findAppliedEvents: (ids) => store.findAppliedEvents(ids),
    getRecordStates: (keys) => store.getRecordStates(keys),
    commit: (commit) => store.commit(commit),
    openLeases: () => {
      const held = new Set<string>();
      return {
        held,
        acquire: async (keys) => void keys.forEach((key) => held.add(key)),
        renew: async () => undefined,
        beginWrite: async () => undefined,
        commit: (commit) => store.commit(commit),
        release: async () => undefined,
      };
    },
  };
}

/** Opens leases on `store` and takes `keys` (waiting as `options` say). */
async function acquireRecordLeases(
  store: SyncStore,
  keys: string[],
  options: LeaseOptions,
): Promise<RecordLeases> {
  const leases = store.openLeases(options);
  await leases.acquire(keys);
  return leases;
}

function syncerOn(
  store: SyncStore,
  writer: FakeSalesforceWriter,
  options: { recordLeases?: LeaseOptions; stripe?: StripeObjectReader } = {},
) {
  const syncer = createEventSyncer({
    writer,
    reader: writer,
    store,
    stripe: options.stripe,
    mapping: defaultMapping(),
    metrics: createMetrics({ collectDefaults: false }),
    clock: new TestClock(),
    idempotencyTtlSeconds: 35 * 86400,
    recordLeases: options.recordLeases,
  });
  return (...events: StripeEvent[]) => syncer.syncEvents(itemsOf(events), log);
}

/** Runs `first` and, once it is writing to Salesforce (and still is), `second`, at once. */
async function race(
  sync: (...events: StripeEvent[]) => Promise<EventOutcome[]>,
  writer: SlowWriter,
  first: StripeEvent,
  second: StripeEvent,
): Promise<[EventOutcome | undefined, EventOutcome | undefined]> {
  const a = sync(first);
  await writer.firstCall;
  const [[outcomeA], [outcomeB]] = await Promise.all([a, sync(second)]);
  return [outcomeA, outcomeB];
}

/** The three races of the review: the newer/final event starts first, its stale rival lands last. */
const RACES = {
  deletedVsStaleUpdate: () => ({
    winner: loadEvent("customer.subscription.deleted", { id: "evt_del", created: 2000 }),
    loser: loadEvent("customer.subscription.updated", {
      id: "evt_upd",
      created: 1000,
      object: { id: SUB_ID, customer: CUS_ID, status: "active" },
    }),
  }),
  checkoutVsCreated: () => ({
    winner: loadEvent("checkout.session.completed", { id: "evt_co", created: 2000 }),
    loser: loadEvent("customer.subscription.created", {
      id: "evt_cr",
      created: 1000,
      object: { id: SUB_ID, customer: CUS_ID },
    }),
  }),
  succeededVsFailed: () => ({
    winner: loadEvent("payment_intent.succeeded", { id: "evt_ok", created: 2000 }),
    loser: loadEvent("payment_intent.payment_failed", {
      id: "evt_ko",
      created: 1000,
      object: { id: PI_ID, customer: CUS_ID },
    }),
  }),
};

/** The winner writes in 20 ms, the stale loser takes 80 ms: without leases it lands last. */
const DELAYS = { evt_del: 20, evt_co: 20, evt_ok: 20, evt_upd: 80, evt_cr: 80, evt_ko: 80 };

/** Everything shared by both stores; `passTime(ms)` lets leases of `ms` run out. */
function describeRecordLeases(
  name: string,
  create: () => Promise<{ store: SyncStore; passTime: (ms: number) => Promise<void> }>,
) {
  describe(`record leases on the ${name} store`, () => {
    let store: SyncStore;
    let passTime: (ms: number) => Promise<void>;
    beforeEach(async () => {
      ({ store, passTime } = await create());
    });

    describe("two batches racing on one record", () => {
      it("a deleted subscription stays canceled against a stale update", async () => {
        const writer = new SlowWriter(DELAYS);
        const { winner, loser } = RACES.deletedVsStaleUpdate();
        const outcomes = await race(syncerOn(store, writer), writer, winner, loser);
        expect(outcomes).to.deep.equal([{ status: "applied" }, { status: "stale" }]);
        expect(writer.row(SUBSCRIPTION, SUB_ID)?.Status__c).to.equal("canceled");
        expect(writer.row(SUBSCRIPTION, SUB_ID)?.Last_Stripe_Event_Id__c).to.equal("evt_del");
      });

      it("Sync_Status__c Completed stays against a subscription.created", async () => {
        const writer = new SlowWriter(DELAYS);
        const { winner, loser } = RACES.checkoutVsCreated();
        const outcomes = await race(syncerOn(store, writer), writer, winner, loser);
        expect(outcomes).to.deep.equal([{ status: "applied" }, { status: "applied" }]);
        const row = writer.row(SUBSCRIPTION, SUB_ID);
        expect(row?.Sync_Status__c).to.equal("Completed");
        expect(row?.Checkout_Session_Id__c).to.equal("cs_test_a1QxCheckout0001AbCdEfGhIjKl");
        expect(row?.Status__c).to.equal("incomplete");
      });

      it("a Succeeded payment stays Succeeded against a Failed one", async () => {
        const writer = new SlowWriter(DELAYS);
        const { winner, loser } = RACES.succeededVsFailed();
        const outcomes = await race(syncerOn(store, writer), writer, winner, loser);
        expect(outcomes).to.deep.equal([{ status: "applied" }, { status: "stale" }]);
        expect(writer.row(PAYMENT, PI_ID)?.Status__c).to.equal("Succeeded");
      });

      it("a batch that waits too long retries its event as record_busy, writes nothing, and loses nothing", async () => {
        const writer = new SlowWriter({ evt_del: 150 });
        const sync = syncerOn(store, writer, { recordLeases: { ttlMs: 60_000, waitMs: 20 } });
        const { winner, loser } = RACES.deletedVsStaleUpdate();
        const outcomes = await race(sync, writer, winner, loser);
        expect(outcomes).to.deep.equal([{ status: "applied" }, BUSY]);
        expect(writer.calls.flatMap((c) => c.records.map((r) => r.Last_Stripe_Event_Id__c))).to.not.include(
          "evt_upd",
        );
        // The retry comes back once the record is free: stale, nothing written.
        const calls = writer.calls.length;
        expect(await sync(loser)).to.deep.equal([{ status: "stale" }]);
        expect(writer.calls.length).to.equal(calls);
        expect(writer.row(SUBSCRIPTION, SUB_ID)?.Status__c).to.equal("canceled");
      });

      it("only the events of busy records wait; the rest of the batch is written", async () => {
        const writer = new FakeSalesforceWriter();
        const sync = syncerOn(store, writer, { recordLeases: { ttlMs: 60_000, waitMs: 0 } });
        const held = await acquireRecordLeases(store, [SUB_KEY], { ttlMs: 60_000, waitMs: 0 });
        const outcomes = await sync(
          loadEvent("customer.subscription.updated", { id: "evt_sub" }),
          loadEvent("payment_intent.succeeded", { id: "evt_pay" }),
        );
        expect(outcomes).to.deep.equal([BUSY, { status: "applied" }]);
        expect(writer.row(SUBSCRIPTION, SUB_ID)).to.equal(undefined);
        expect(writer.row(PAYMENT, PI_ID)?.Status__c).to.equal("Succeeded");
        await held.release();
      });

      it("an event whose parent customer is busy waits too (its stub could overwrite the customer)", async () => {
        const writer = new FakeSalesforceWriter();
        const sync = syncerOn(store, writer, { recordLeases: { ttlMs: 60_000, waitMs: 0 } });
        const held = await acquireRecordLeases(store, [recordKey(CUSTOMER, CUS_ID)], {
          ttlMs: 60_000,
          waitMs: 0,
        });
        expect(await sync(loadEvent("payment_intent.succeeded"))).to.deep.equal([BUSY]);
        expect(writer.calls).to.have.length(0);
        await held.release();
        expect(await sync(loadEvent("payment_intent.succeeded"))).to.deep.equal([{ status: "applied" }]);
      });

      it("a customer named only by the re-read is leased too", async () => {
        const writer = new FakeSalesforceWriter();
        const event = loadEvent("customer.subscription.updated");
        const stripe: StripeObjectReader = {
          retrieveCustomer: async () => undefined,
          retrievePaymentIntent: async () => undefined,
          retrieveCheckoutSession: async () => undefined,
          retrieveSubscription: async () => ({ ...event.data.object, customer: "cus_FromReread" }),
        };
        const sync = syncerOn(store, writer, { stripe, recordLeases: { ttlMs: 60_000, waitMs: 0 } });
        const held = await acquireRecordLeases(store, [recordKey(CUSTOMER, "cus_FromReread")], {
          ttlMs: 60_000,
          waitMs: 0,
        });
        expect(await sync(event)).to.deep.equal([BUSY]);
        expect(writer.calls).to.have.length(0);
        await held.release();
        expect(await sync(event)).to.deep.equal([{ status: "applied" }]);
        expect(writer.row(CUSTOMER, "cus_FromReread")).to.not.equal(undefined);
      });

      it("a redelivery handled by two batches at once is applied once", async () => {
        const writer = new SlowWriter({ evt_twice: 40 });
        const sync = syncerOn(store, writer);
        const event = () => loadEvent("customer.subscription.updated", { id: "evt_twice" });
        const outcomes = await race(sync, writer, event(), event());
        expect(outcomes).to.deep.equal([{ status: "applied" }, { status: "duplicate" }]);
        expect(writer.calls.filter((c) => c.objectName === SUBSCRIPTION)).to.have.length(1);
      });

      it("gives every lease back after a batch, whether it succeeded or failed", async () => {
        const writer = new FakeSalesforceWriter();
        const sync = syncerOn(store, writer);
        await sync(loadEvent("customer.subscription.updated"));
        writer.failNextCall(new Error("socket hang up"));
        const [outcome] = await sync(loadEvent("payment_intent.payment_failed"));
        expect(outcome?.status).to.equal("retry");
        const keys = [
          SUB_KEY,
          recordKey(CUSTOMER, CUS_ID),
          recordKey(PAYMENT, "pi_3QxPiKwd01AbCdEf"),
          recordKey(CUSTOMER, "cus_NeverSeen00001"),
        ];
        const leases = await acquireRecordLeases(store, keys, { ttlMs: 60_000, waitMs: 0 });
        expect([...leases.held]).to.have.members(keys);
        await leases.release();
      });
    });

    describe("the lease primitive", () => {
      const options = { ttlMs: 150, waitMs: 0 };

      it("does not take a lease someone else holds, nor jump past it in key order, and takes them once released", async () => {
        const a = await acquireRecordLeases(store, ["k1", "k2"], options);
        expect([...a.held]).to.have.members(["k1", "k2"]);
        // Keys are taken in one order, so no two batches each hold part of what the other waits for.
        const b = await acquireRecordLeases(store, ["k3", "k1", "k0"], { ttlMs: 150, waitMs: 30 });
        expect([...b.held]).to.deep.equal(["k0"]);
        await b.release();
        await a.release();
        const c = await acquireRecordLeases(store, ["k1", "k2", "k3"], options);
        expect([...c.held]).to.have.members(["k1", "k2", "k3"]);
        await c.release();
      });

      it("two batches wanting overlapping records in opposite orders both get them, one after the other", async () => {
        const first = await acquireRecordLeases(store, ["k2", "k1"], { ttlMs: 60_000, waitMs: 2_000 });
        const second = acquireRecordLeases(store, ["k1", "k2"], { ttlMs: 60_000, waitMs: 2_000 });
        setTimeout(() => void first.release(), 50);
        expect([...(await second).held]).to.have.members(["k1", "k2"]);
        await (await second).release();
      });

      it("waits for a busy lease and takes it as soon as it is released", async () => {
        const a = await acquireRecordLeases(store, ["k1"], { ttlMs: 60_000, waitMs: 0 });
        const started = performance.now();
        setTimeout(() => void a.release(), 60);
        const b = await acquireRecordLeases(store, ["k1"], { ttlMs: 60_000, waitMs: 2_000 });
        expect([...b.held]).to.deep.equal(["k1"]);
        // It waited for the release rather than giving up at once.
        expect(performance.now() - started).to.be.at.least(50);
        await b.release();
      });

      it("takes a lease whose holder never released it once it ran out", async () => {
        await acquireRecordLeases(store, ["k1"], options);
        expect([...(await acquireRecordLeases(store, ["k1"], options)).held]).to.deep.equal([]);
        await passTime(200);
        const b = await acquireRecordLeases(store, ["k1"], options);
        expect([...b.held]).to.deep.equal(["k1"]);
        await b.release();
      });

      it("a renewed lease outlives its first TTL", async () => {
        const a = await acquireRecordLeases(store, ["k1"], { ttlMs: 300, waitMs: 0 });
        await passTime(200);
        await a.renew();
        await passTime(200);
        expect([...(await acquireRecordLeases(store, ["k1"], options)).held]).to.deep.equal([]);
        await a.release();
        expect([...(await acquireRecordLeases(store, ["k1"], options)).held]).to.deep.equal(["k1"]);
      });

      it("release and renew never touch a lease another holder took after ours ran out", async () => {
        const a = await acquireRecordLeases(store, ["k1", "k2"], options);
        await passTime(200);
        const b = await acquireRecordLeases(store, ["k1"], { ttlMs: 60_000, waitMs: 0 });
        expect([...b.held]).to.deep.equal(["k1"]);
        await a.renew();
        await a.release();
        await a.release();
        // k1 is b's now: a's release left it alone, so a newcomer cannot take it (nor k2 after it).
        const c = await acquireRecordLeases(store, ["k1", "k2"], options);
        expect([...c.held]).to.deep.equal([]);
        await b.release();
        await c.release();
      });

      it("asks the store nothing for no keys", async () => {
        const none = await acquireRecordLeases(store, [], options);
        expect(none.held.size).to.equal(0);
        await none.release();
      });
    });
  });
}

describe("record leases: the races they close", () => {
  // The control: with a store that locks nothing, the harness does reproduce each race.
  it("without leases, each race breaks the contract (the harness does overlap the calls)", async () => {
    const broken: string[] = [];
    for (const [name, make] of Object.entries(RACES)) {
      const writer = new SlowWriter(DELAYS);
      const { winner, loser } = make();
      await race(syncerOn(withoutLocks(new MemorySyncStore()), writer), writer, winner, loser);
      const sub = writer.row(SUBSCRIPTION, SUB_ID);
      if (name === "deletedVsStaleUpdate" && sub?.Status__c === "active") broken.push(name);
      if (name === "checkoutVsCreated" && sub?.Sync_Status__c === "Pending") broken.push(name);
      if (name === "succeededVsFailed" && writer.row(PAYMENT, PI_ID)?.Status__c === "Failed")
        broken.push(name);
    }
    expect(broken).to.deep.equal(Object.keys(RACES));
  });
});

describeRecordLeases("memory", async () => {
  const clock = new TestClock();
  return {
    store: new MemorySyncStore({ clock }),
    passTime: async (ms) => {
      clock.ms += ms;
    },
  };
});

describe("record leases with a real redis-server", () => {
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

  describeRecordLeases("redis", async () => ({
    store: new RedisSyncStore(redis, { keyPrefix: `lease${prefix++}:sfsync:` }),
    passTime: sleep,
  }));

  it("leases live at <prefix>lease:<record key> with a random token and the lease TTL", async () => {
    const store = new RedisSyncStore(redis, { keyPrefix: "leasekeys:" });
    const a = await acquireRecordLeases(store, [SUB_KEY], { ttlMs: 60_000, waitMs: 0 });
    const b = await acquireRecordLeases(new RedisSyncStore(redis, { keyPrefix: "leasekeys:" }), [SUB_KEY], {
      ttlMs: 60_000,
      waitMs: 0,
    });
    expect(b.held.size).to.equal(0);
    const token = await redis.get(`leasekeys:lease:${SUB_KEY}`);
    expect(token).to.match(/^[0-9a-f-]{36}$/);
    expect(await redis.pttl(`leasekeys:lease:${SUB_KEY}`)).to.be.within(59_000, 60_000);
    await b.release();
    expect(await redis.get(`leasekeys:lease:${SUB_KEY}`)).to.equal(token);
    await a.release();
    expect(await redis.exists(`leasekeys:lease:${SUB_KEY}`)).to.equal(0);
  });

  it("a Redis that does not answer makes leasing fail as retryable, and the batch retries", async () => {
    const dead = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => undefined);
    const store = new RedisSyncStore(dead);
    const error = await acquireRecordLeases(store, ["k1"], { ttlMs: 1000, waitMs: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isErrorOfKind(error, "retryable")).to.equal(true);
    const live = new RedisSyncStore(redis, { keyPrefix: "deadleases:" });
    const flaky: SyncStore = {
      findAppliedEvents: (ids) => live.findAppliedEvents(ids),
      getRecordStates: (keys) => live.getRecordStates(keys),
      commit: (commit) => live.commit(commit),
      openLeases: (options) => store.openLeases(options),
    };
    const writer = new FakeSalesforceWriter();
    const outcomes = await syncerOn(flaky, writer)(loadEvent("customer.updated"), loadEvent("invoice.paid"));
    dead.disconnect();
    expect(outcomes).to.deep.equal([
      { status: "retry", reason: "store_unavailable", scope: "record" },
      { status: "ignored", reason: "unhandled_event_type" },
    ]);
    expect(writer.calls).to.have.length(0);
  });
});

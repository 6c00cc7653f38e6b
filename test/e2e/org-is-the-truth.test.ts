import { expect } from "chai";
import { Redis } from "ioredis";
import { DEFAULT_EMULATOR_CREDENTIALS } from "../../src/emulator/salesforce/index.js";
import { createClient, upsert } from "../salesforce/salesforce-test-kit.js";
import { freePort, waitFor } from "../support/child-server.js";
import { sqsEnv } from "../support/sqs-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import {
  buildEventStream,
  eventsWrittenTwice,
  recordsOffExpectation,
  shuffled,
} from "./support/event-stream.js";
import { answers200, spawnMain, type MainProcess } from "./support/main-process.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";

describe("end to end: the org is the truth, the store a cache", function () {
  this.timeout(180_000);
  let infra: Infrastructure;
  let pipeline: Pipeline;
  let admin: Redis;
  const processes: MainProcess[] = [];

  before(async () => {
    infra = await startInfrastructure();
    admin = new Redis(infra.redisServer.url);
  });
  after(async () => {
    admin.disconnect();
    await infra.stop();
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill("SIGKILL")));
    await pipeline?.stop();
  });

  const record = (objectName: string, externalId: string) => pipeline.record(objectName, externalId);

  it("a Redis flushed mid-stream: replays and older events leave every record as it was, and write nothing", async () => {
    pipeline = await startPipeline(infra);
    const stream = buildEventStream("flush", 12);
    for (const event of shuffled(stream.events)) await pipeline.enqueue(event);
    await pipeline.waitUntilQueueEmpty(60_000);
    expect(recordsOffExpectation(stream, record)).to.deep.equal([]);
    const writesBefore = pipeline.emulator.history().length;

    await admin.flushall();
    // Everything again (a replay after the store was lost), in another order.
    for (const event of shuffled(stream.events, 99)) await pipeline.enqueue(event);
    await pipeline.waitUntilQueueEmpty(60_000);

    expect(recordsOffExpectation(stream, record)).to.deep.equal([]);
    expect(pipeline.emulator.history().length, "writes after the flush").to.equal(writesBefore);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("an org loaded before, and an empty store: child events, stale events and replays keep every loaded value", async () => {
    pipeline = await startPipeline(infra, { workers: 0 });
    const { client } = createClient(pipeline.emulator);
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      {
        Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4",
        Name: "Jenny Rosen (loaded)",
        Email__c: "jenny@example.com",
        Last_Stripe_Event_Id__c: "evt_loaded_c",
        Last_Stripe_Event_At__c: "2025-06-01T00:00:00.000Z",
      },
    ]);
    await upsert(client, "Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      {
        Stripe_Subscription_Id__c: "sub_1QxSub0001AbCdEf",
        Name: "sub_1QxSub0001AbCdEf",
        Status__c: "active",
        Sync_Status__c: "Completed",
        Checkout_Session_Id__c: "cs_loaded",
        Last_Stripe_Event_Id__c: "evt_loaded_s",
        Last_Stripe_Event_At__c: "2025-06-01T00:00:00.000Z",
        Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4" },
      },
    ]);
    await upsert(client, "Payment_Transaction__c", "Stripe_Payment_Intent_Id__c", [
      {
        Stripe_Payment_Intent_Id__c: "pi_3QxPi0001AbCdEfGh",
        Name: "pi_3QxPi0001AbCdEfGh",
        Status__c: "Succeeded",
        Amount__c: 19.99,
        Last_Stripe_Event_Id__c: "evt_loaded_p",
        Last_Stripe_Event_At__c: "2025-06-01T00:00:00.000Z",
      },
    ]);
    const loaded = pipeline.emulator.history().length;
    await pipeline.startWorkers(1);
    const stale = 1_735_000_000; // before 2025-06-01
    const fresh = 1_760_000_000; // after it
    const events = [
      // A child of the loaded customer: no stub may rename it.
      loadEvent("payment_intent.succeeded", {
        id: "evt_child_pay",
        created: fresh,
        object: { id: "pi_child_1" },
      }),
      // Stale events for every loaded record.
      loadEvent("customer.updated", { id: "evt_old_c", created: stale, object: { name: "Old Name" } }),
      loadEvent("customer.subscription.updated", {
        id: "evt_old_s",
        created: stale,
        object: { status: "unpaid" },
      }),
      loadEvent("payment_intent.payment_failed", {
        id: "evt_old_p",
        created: stale,
        object: { id: "pi_3QxPi0001AbCdEfGh", customer: "cus_RnQk1aB2cD3eF4" },
      }),
      // A newer update of the completed subscription: it must not send Pending.
      loadEvent("customer.subscription.updated", {
        id: "evt_new_s",
        created: fresh,
        object: { status: "past_due" },
      }),
    ];
    for (const event of events) await pipeline.sendEvent(event);
    await pipeline.waitUntilQueueEmpty(30_000);

    expect(record("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4")).to.include({
      Name: "Jenny Rosen (loaded)",
      Last_Stripe_Event_Id__c: "evt_loaded_c",
    });
    expect(record("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf")).to.include({
      Status__c: "past_due",
      Sync_Status__c: "Completed",
      Checkout_Session_Id__c: "cs_loaded",
    });
    expect(record("Payment_Transaction__c", "pi_3QxPi0001AbCdEfGh")).to.include({
      Status__c: "Succeeded",
      Amount__c: 19.99,
    });
    const writes = pipeline.emulator.history().slice(loaded);
    expect(writes.map((w) => `${w.object} ${w.externalId}`).sort()).to.deep.equal(
      ["Payment_Transaction__c pi_child_1", "Stripe_Subscription__c sub_1QxSub0001AbCdEf"].sort(),
    );
    expect(writes.find((w) => w.object === "Stripe_Subscription__c")?.fields).to.not.have.property(
      "Sync_Status__c",
    );
  });

  async function startWorkerProcess(extra: Record<string, string> = {}): Promise<MainProcess> {
    const port = await freePort();
    const worker = spawnMain(["worker"], {
      NODE_ENV: "production",
      ...(sqsEnv(infra.sqsServer.endpoint) as Record<string, string>),
      SQS_QUEUE_URL: pipeline.queueUrl,
      SQS_DLQ_URL: pipeline.dlqUrl,
      REDIS_URL: infra.redisServer.url,
      SALESFORCE_LOGIN_URL: pipeline.emulator.url,
      SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      WORKER_PORT: String(port),
      WORKER_VISIBILITY_TIMEOUT_SECONDS: "3",
      WORKER_WAIT_TIME_SECONDS: "1",
      WORKER_MAX_GROUP_SIZE: "40",
      LOG_LEVEL: "warn",
      ...extra,
    });
    processes.push(worker);
    await worker.waitUntil(
      () => answers200(`http://127.0.0.1:${port}/health/ready`),
      "the worker to be ready",
    );
    return worker;
  }

  it("a worker killed right after Salesforce answered a write: after a restart every record is written once per event", async () => {
    pipeline = await startPipeline(infra, { workers: 0 });
    const stream = buildEventStream("kill", 10);
    for (const event of stream.events) await pipeline.enqueue(event);
    // The first write lands in the org, and its answer is held: the worker dies before it hears it.
    pipeline.emulator.faults.add({ type: "hold_after_write" });
    const first = await startWorkerProcess();
    await pipeline.emulator.waitForHeld();
    const landed = pipeline.emulator.history().length;
    expect(landed, "the held write landed").to.be.greaterThan(0);
    await first.kill("SIGKILL");
    pipeline.emulator.releaseHeld();

    await startWorkerProcess();
    await pipeline.waitUntilQueueEmpty(90_000);
    expect(recordsOffExpectation(stream, record)).to.deep.equal([]);
    expect(eventsWrittenTwice(pipeline.emulator.history())).to.deep.equal([]);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("a Redis that stalls (SIGSTOP) during a batch: the batch gives up, nothing is written twice, all lands once Redis is back", async () => {
    pipeline = await startPipeline(infra, { recordLeases: { ttlMs: 2_000, waitMs: 1_000 } });
    const stream = buildEventStream("stall", 6);
    pipeline.emulator.faults.add({ type: "hold_after_write" });
    for (const event of stream.events) await pipeline.enqueue(event);
    await pipeline.emulator.waitForHeld();
    // Redis stops answering while the write is out; its answer comes back after the leases ran out.
    infra.redisServer.process.kill("SIGSTOP");
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      pipeline.emulator.releaseHeld();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      infra.redisServer.process.kill("SIGCONT");
    }
    await pipeline.waitUntilQueueEmpty(90_000);
    expect(recordsOffExpectation(stream, record)).to.deep.equal([]);
    expect(eventsWrittenTwice(pipeline.emulator.history())).to.deep.equal([]);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("two workers on one Redis, overlapping records, random kills: the org ends as a replay in created order, no event written twice", async () => {
    pipeline = await startPipeline(infra, { workers: 0 });
    const stream = buildEventStream("race", 16);
    for (const event of shuffled(stream.events, 3)) await pipeline.enqueue(event);
    const workers = [await startWorkerProcess(), await startWorkerProcess()];
    let seed = 11;
    for (let round = 0; round < 4; round++) {
      await new Promise((resolve) => setTimeout(resolve, 400 + (round % 2) * 300));
      seed = (seed * 7 + 3) % 2;
      const victim = workers[seed] as MainProcess;
      await victim.kill("SIGKILL");
      workers[seed] = await startWorkerProcess();
    }
    await pipeline.waitUntilQueueEmpty(120_000);
    await waitFor(
      async () => recordsOffExpectation(stream, record).length === 0,
      30_000,
      "the expected records",
    );
    expect(recordsOffExpectation(stream, record)).to.deep.equal([]);
    expect(eventsWrittenTwice(pipeline.emulator.history())).to.deep.equal([]);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });
});

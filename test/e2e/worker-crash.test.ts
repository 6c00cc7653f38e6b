import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { DEFAULT_EMULATOR_CREDENTIALS } from "../../src/emulator/salesforce/index.js";
import { freePort, waitFor } from "../support/child-server.js";
import { sqsEnv } from "../support/sqs-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { answers200, spawnMain, type MainProcess } from "./support/main-process.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";
import { eventsWrittenTwice } from "./support/event-stream.js";
import { startSlowProxy, type SlowProxy } from "./support/slow-proxy.js";

const PAIRS = 150;
/** Salesforce records the backlog makes: 150 customers, 150 payments and their 150 new parents. */
const EXPECTED_RECORDS = 3 * PAIRS;
const CONCURRENCY = 2;
const BATCH_SIZE = 10;
const MAX_RECORDS_PER_CALL = 20;

function customerEvent(i: number): StripeEvent {
  return loadEvent("customer.updated", {
    id: `evt_crash_c_${i}`,
    created: 1735693200 + i,
    object: { id: `cus_crash_c_${i}`, name: `Crash Customer ${i}`, email: `crash${i}@example.com` },
  });
}

function paymentEvent(i: number): StripeEvent {
  return loadEvent("payment_intent.succeeded", {
    id: `evt_crash_p_${i}`,
    created: 1735700400 + i,
    object: {
      id: `pi_crash_p_${i}`,
      customer: `cus_crash_pc_${i}`,
      amount: 1000 + i,
      amount_received: 1000 + i,
    },
  });
}

describe("end to end: a worker killed with SIGKILL halfway through a backlog", function () {
  this.timeout(180_000);
  let infra: Infrastructure;
  let pipeline: Pipeline;
  let proxy: SlowProxy;
  const processes: MainProcess[] = [];

  before(async () => {
    infra = await startInfrastructure();
    pipeline = await startPipeline(infra, { workers: 0 });
    // Each REST call takes 150 ms, so the backlog takes seconds and the kill lands halfway.
    proxy = await startSlowProxy(pipeline.emulator.url, 150);
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.kill("SIGKILL")));
    await proxy.stop();
    await pipeline.stop();
    await infra.stop();
  });

  async function startWorkerProcess(): Promise<MainProcess> {
    const port = await freePort();
    const worker = spawnMain(["worker"], {
      NODE_ENV: "production",
      ...(sqsEnv(infra.sqsServer.endpoint) as Record<string, string>),
      SQS_QUEUE_URL: pipeline.queueUrl,
      SQS_DLQ_URL: pipeline.dlqUrl,
      REDIS_URL: infra.redisServer.url,
      SALESFORCE_LOGIN_URL: proxy.url,
      SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      WORKER_PORT: String(port),
      WORKER_VISIBILITY_TIMEOUT_SECONDS: "3",
      WORKER_WAIT_TIME_SECONDS: "1",
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_BATCH_SIZE: String(BATCH_SIZE),
      WORKER_MAX_GROUP_SIZE: String(MAX_RECORDS_PER_CALL),
      LOG_LEVEL: "warn",
    });
    processes.push(worker);
    await worker.waitUntil(
      () => answers200(`http://127.0.0.1:${port}/health/ready`),
      "the worker to be ready",
    );
    return worker;
  }

  it("loses nothing and writes no record twice", async () => {
    const events = Array.from({ length: PAIRS }, (_, i) => [customerEvent(i), paymentEvent(i)]).flat();
    for (let i = 0; i < events.length; i += 20)
      await Promise.all(events.slice(i, i + 20).map((event) => pipeline.enqueue(event)));

    const first = await startWorkerProcess();
    await first.waitUntil(
      async () => pipeline.emulator.stats().records.created >= 30,
      "some records to land",
      60_000,
    );
    const killed = await first.kill("SIGKILL");
    expect(killed.signal).to.equal("SIGKILL");
    const atKill = pipeline.emulator.stats().records;
    expect(atKill.created, "the kill came before the end of the backlog").to.be.lessThan(EXPECTED_RECORDS);

    const second = await startWorkerProcess();
    await pipeline.waitUntilQueueEmpty(120_000);
    await waitFor(
      async () => pipeline.emulator.stats().records.created === EXPECTED_RECORDS,
      30_000,
      "every record to land",
    );
    const stopped = await second.kill("SIGTERM");
    expect(stopped.code, `SIGTERM exits cleanly; stderr: ${second.stderr()}`).to.equal(0);

    const customers = pipeline.emulator.records("Stripe_Customer__c");
    const payments = pipeline.emulator.records("Payment_Transaction__c");
    const customersById = new Map(customers.map((r) => [r.Stripe_Customer_Id__c, r]));
    const paymentsById = new Map(payments.map((r) => [r.Stripe_Payment_Intent_Id__c, r]));
    // Each record exists exactly once: as many records as distinct external ids.
    expect(customers).to.have.length(2 * PAIRS);
    expect(customersById.size).to.equal(2 * PAIRS);
    expect(payments).to.have.length(PAIRS);
    expect(paymentsById.size).to.equal(PAIRS);

    const wrong: string[] = [];
    for (let i = 0; i < PAIRS; i += 1) {
      const customer = customersById.get(`cus_crash_c_${i}`);
      if (customer?.Name !== `Crash Customer ${i}` || customer.Last_Stripe_Event_Id__c !== `evt_crash_c_${i}`)
        wrong.push(`customer ${i}: ${JSON.stringify(customer)}`);
      const parent = customersById.get(`cus_crash_pc_${i}`);
      const payment = paymentsById.get(`pi_crash_p_${i}`);
      if (
        payment?.Amount__c !== (1000 + i) / 100 ||
        payment.Last_Stripe_Event_Id__c !== `evt_crash_p_${i}` ||
        payment.Status__c !== "Succeeded" ||
        parent === undefined ||
        payment.Stripe_Customer__c !== parent.Id
      )
        wrong.push(`payment ${i}: ${JSON.stringify(payment)}`);
    }
    expect(wrong, "records missing or with wrong values").to.deep.equal([]);

    // Every upsert is an insert: the org is read for the redelivered events, so a record written
    // before the crash but never committed to Redis is not written again (a parent stub is never
    // written over a customer either).
    const stats = pipeline.emulator.stats().records;
    expect(stats.created).to.equal(EXPECTED_RECORDS);
    expect(stats.failed).to.equal(0);
    expect(
      stats.updated,
      `records written again after the crash (created at kill: ${atKill.created})`,
    ).to.equal(0);
    expect(eventsWrittenTwice(pipeline.emulator.history())).to.deep.equal([]);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });
});

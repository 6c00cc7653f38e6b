import { expect } from "chai";
import { Redis } from "ioredis";
import { RedisSyncStore } from "../../src/data-access/store/redis-sync-store.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "../e2e/support/pipeline.js";
import { openSession } from "../salesforce/emulator-http.js";
import {
  generateStripeData,
  startStripeApiStandIn,
  type StripeApiStandIn,
} from "../support/stripe-api-stand-in.js";
import { cli, cliEnv } from "./support/cli-harness.js";

const DAY = 86400;
const now = () => Math.floor(Date.now() / 1000);
const seconds = (dateTime: unknown) =>
  Math.floor(Date.parse(String(dateTime).replace(/\+0000$/, "Z")) / 1000);

describe("cli: backfill of Stripe's current objects", function () {
  this.timeout(120_000);
  let infra: Infrastructure;
  let stripe: StripeApiStandIn;
  let pipeline: Pipeline;
  let env: Record<string, string>;
  const records = (object: string) => pipeline.emulator.records(object);
  const byId = (object: string, field: string, id: string) => records(object).find((r) => r[field] === id);

  before(async () => {
    [infra, stripe] = await Promise.all([startInfrastructure(), startStripeApiStandIn({ rateLimit: false })]);
  });
  after(async () => {
    await Promise.all([infra.stop(), stripe.stop()]);
  });
  beforeEach(async () => {
    stripe.reset();
    pipeline = await startPipeline(infra, { workers: 0 });
    env = cliEnv(infra, pipeline, stripe);
  });
  afterEach(() => pipeline.stop());

  it("writes customers, then subscriptions (canceled too) and payment intents by the contract's rules for objects read without an event", async () => {
    const data = generateStripeData({ customers: 20, startAt: now() - 400 * DAY });
    stripe.seed([...data.customers, ...data.subscriptions, ...data.paymentIntents]);
    const processing = {
      ...data.paymentIntents[0],
      id: "pi_processing",
      status: "processing",
      last_payment_error: null,
    };
    stripe.seed(processing);
    const startedAt = now();

    const run = await cli(["backfill", "--via", "collections"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(records("Stripe_Customer__c")).to.have.length(20);
    expect(records("Stripe_Subscription__c")).to.have.length(20);
    expect(
      data.subscriptions.some((s) => s.status === "canceled"),
      "the data has canceled subscriptions",
    ).to.equal(true);
    expect(
      byId("Payment_Transaction__c", "Stripe_Payment_Intent_Id__c", "pi_processing"),
      "not written",
    ).to.equal(undefined);
    for (const intent of data.paymentIntents) {
      const record = byId("Payment_Transaction__c", "Stripe_Payment_Intent_Id__c", String(intent.id));
      expect(record?.Status__c).to.equal(intent.status === "succeeded" ? "Succeeded" : "Failed");
    }
    for (const subscription of records("Stripe_Subscription__c")) {
      expect(subscription.Sync_Status__c).to.equal("Pending");
      expect(subscription.Last_Stripe_Event_Id__c ?? null).to.equal(null);
      expect(seconds(subscription.Last_Stripe_Event_At__c)).to.be.within(startedAt - 1, now());
    }
    const history = pipeline.emulator.history();
    const lastCustomer = history.map((e) => e.object).lastIndexOf("Stripe_Customer__c");
    expect(
      history.findIndex((e) => e.object !== "Stripe_Customer__c"),
      "parents first",
    ).to.be.greaterThan(lastCustomer);
    expect(run.summary.salesforceApiCalls).to.be.a("number").and.greaterThan(0);
  });

  it("never overwrites a newer write, never takes back Succeeded, and sends Pending only on create", async () => {
    const data = generateStripeData({ customers: 3, startAt: now() - 400 * DAY });
    const [newer, completed] = data.subscriptions;
    const failed = {
      ...data.paymentIntents[2],
      id: "pi_was_succeeded",
      status: "requires_payment_method",
      last_payment_error: { code: "card_declined", message: "declined" },
    };
    stripe.seed([...data.customers, ...data.subscriptions, failed]);
    const http = await openSession(pipeline.emulator);
    await http.upsert(
      "Stripe_Customer__c",
      "Stripe_Customer_Id__c",
      data.customers.map((c) => ({ Stripe_Customer_Id__c: c.id, Name: "before" })),
    );
    const future = new Date((now() + DAY) * 1000).toISOString();
    const past = new Date((now() - DAY) * 1000).toISOString();
    await http.upsert("Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      {
        Stripe_Subscription_Id__c: newer?.id,
        Name: "newer",
        Status__c: "active",
        Last_Stripe_Event_Id__c: "evt_live",
        Last_Stripe_Event_At__c: future,
      },
      {
        Stripe_Subscription_Id__c: completed?.id,
        Name: "x",
        Status__c: "active",
        Sync_Status__c: "Completed",
        Checkout_Session_Id__c: "cs_1",
        Last_Stripe_Event_Id__c: "evt_old",
        Last_Stripe_Event_At__c: past,
      },
    ]);
    await http.upsert("Payment_Transaction__c", "Stripe_Payment_Intent_Id__c", [
      {
        Stripe_Payment_Intent_Id__c: "pi_was_succeeded",
        Name: "pi",
        Status__c: "Succeeded",
        Last_Stripe_Event_Id__c: "evt_paid",
        Last_Stripe_Event_At__c: past,
      },
    ]);

    const run = await cli(["backfill", "--via", "collections"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(byId("Stripe_Subscription__c", "Stripe_Subscription_Id__c", String(newer?.id))).to.include({
      Name: "newer",
      Last_Stripe_Event_Id__c: "evt_live",
    });
    expect(byId("Stripe_Subscription__c", "Stripe_Subscription_Id__c", String(completed?.id))).to.include({
      Sync_Status__c: "Completed",
      Checkout_Session_Id__c: "cs_1",
      Last_Stripe_Event_Id__c: "evt_old",
      Status__c: completed?.status,
    });
    expect(
      byId("Payment_Transaction__c", "Stripe_Payment_Intent_Id__c", "pi_was_succeeded")?.Status__c,
    ).to.equal("Succeeded");
    const objects = run.summary.objects as Record<string, { skipped: Record<string, number> }>;
    expect(objects.subscriptions?.skipped).to.deep.equal({ newer_in_org: 1 });
    expect(objects.payment_intents?.skipped).to.deep.equal({ final_in_org: 1 });
    expect(
      byId("Stripe_Customer__c", "Stripe_Customer_Id__c", String(data.customers[0]?.id))?.Name,
    ).to.not.equal("before");
  });

  it("above the threshold writes through Bulk API 2.0 jobs: failed rows are reported with their reason, unprocessed rows go through collections", async () => {
    const data = generateStripeData({ customers: 40, startAt: now() - 400 * DAY });
    stripe.seed(data.customers);
    pipeline.emulator.faults.add({
      type: "record_error",
      externalId: String(data.customers[7]?.id),
      statusCode: "INVALID_EMAIL_ADDRESS",
    });
    pipeline.emulator.faults.add({ type: "bulk_unprocessed", afterRows: 12 });
    const run = await cli(["backfill", "--objects", "customers"], {
      ...env,
      BACKFILL_BULK_THRESHOLD: "10",
      BACKFILL_BULK_JOB_RECORDS: "25",
    });
    expect(run.code, "a failed row fails the run").to.equal(1);
    const failed = run.of("failed");
    expect(failed).to.have.length(1);
    expect(failed[0]).to.include({
      externalId: data.customers[7]?.id,
      reason: "INVALID_EMAIL_ADDRESS",
      via: "bulk",
    });
    expect(run.of("bulk_job").map((job) => job.state)).to.deep.equal(["Failed", "JobComplete"]);
    expect(records("Stripe_Customer__c")).to.have.length(39);
    const sources = new Set<string>(pipeline.emulator.history().map((entry) => entry.source));
    expect(sources.has("bulk"), "rows written by the jobs").to.equal(true);
    expect(
      sources.has("collections_upsert") || sources.has("composite"),
      "unprocessed rows through collections",
    ).to.equal(true);
    expect(run.summary.bulkApiCalls).to.be.greaterThan(0);
  });

  it("an interrupted backfill resumes after the last page it wrote, writing each record once", async () => {
    stripe.seed(generateStripeData({ customers: 2500, startAt: now() - 400 * DAY }).customers);
    const interrupt = new AbortController();
    const watcher = setInterval(() => {
      if (records("Stripe_Customer__c").length >= 1000) interrupt.abort();
    }, 10);
    const first = await cli(["backfill", "--objects", "customers", "--via", "collections"], env, {
      signal: interrupt.signal,
    });
    clearInterval(watcher);
    expect(first.code).to.equal(1);
    expect(first.summary.interrupted).to.equal(true);
    expect(records("Stripe_Customer__c").length).to.be.within(1000, 2499);

    stripe.clearRequests();
    const second = await cli(["backfill", "--objects", "customers", "--via", "collections"], env);
    expect(second.code, second.stderr).to.equal(0);
    expect(stripe.requests()[0]?.query.starting_after, "resumes after a cursor").to.be.a("string");
    expect(records("Stripe_Customer__c")).to.have.length(2500);
    expect(pipeline.emulator.history("Stripe_Customer__c"), "each record written once").to.have.length(2500);
  });

  it("leaves a record a live worker holds leased, and says so", async () => {
    const data = generateStripeData({ customers: 3, startAt: now() - 400 * DAY });
    stripe.seed(data.customers);
    const redis = new Redis(infra.redisServer.url);
    const store = new RedisSyncStore(redis);
    store.scopeTo("00D5g000004EMUAEAW");
    const leases = store.openLeases({ ttlMs: 60_000, waitMs: 0 });
    await leases.acquire([`Stripe_Customer__c:${String(data.customers[1]?.id)}`]);
    try {
      const run = await cli(["backfill", "--objects", "customers"], env);
      expect(run.code, run.stderr).to.equal(0);
      const objects = run.summary.objects as Record<string, { skipped: Record<string, number> }>;
      expect(objects.customers?.skipped).to.deep.equal({ busy: 1 });
      expect(records("Stripe_Customer__c").map((r) => r.Stripe_Customer_Id__c)).to.not.include(
        data.customers[1]?.id,
      );
    } finally {
      await leases.release();
      redis.disconnect();
    }
  });
});

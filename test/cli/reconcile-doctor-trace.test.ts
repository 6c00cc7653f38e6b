import { expect } from "chai";
import { Redis } from "ioredis";
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
import { eventBridgeBody } from "../support/eventbridge.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { cli, cliEnv } from "./support/cli-harness.js";

const DAY = 86400;
const now = () => Math.floor(Date.now() / 1000);

describe("cli: reconcile, doctor and trace", function () {
  this.timeout(120_000);
  let infra: Infrastructure;
  let stripe: StripeApiStandIn;
  let pipeline: Pipeline;
  let env: Record<string, string>;

  before(async () => {
    [infra, stripe] = await Promise.all([startInfrastructure(), startStripeApiStandIn({ rateLimit: false })]);
  });
  after(async () => {
    await Promise.all([infra.stop(), stripe.stop()]);
  });
  beforeEach(async () => {
    stripe.reset();
    pipeline = await startPipeline(infra, { workers: 1 });
    env = cliEnv(infra, pipeline, stripe);
  });
  afterEach(() => pipeline.stop());

  it("reconcile finds planted drift field by field with one SOQL query per page, --fix repairs it, and a second run finds none", async () => {
    const data = generateStripeData({ customers: 150, startAt: now() - 400 * DAY });
    stripe.seed([...data.customers, ...data.subscriptions]);
    expect((await cli(["backfill", "--objects", "customers,subscriptions"], env)).code).to.equal(0);
    const clean = await cli(["reconcile", "--objects", "customers,subscriptions"], env);
    expect(clean.code, JSON.stringify(clean.lines.slice(0, 5))).to.equal(0);
    // Stamps have one-second resolution: the planted drift and the reconcile come a second after the backfill.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    // Drift: an edited email and subscription status in the org, a customer Stripe has and the org does not.
    const http = await openSession(pipeline.emulator);
    await http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", [
      { Stripe_Customer_Id__c: data.customers[3]?.id, Email__c: "edited@example.com" },
    ]);
    await http.upsert("Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      { Stripe_Subscription_Id__c: data.subscriptions[5]?.id, Status__c: "unpaid" },
    ]);
    stripe.seed({ ...data.customers[0], id: "cus_only_in_stripe", created: now() - 10 });
    const queriesBefore = pipeline.emulator.stats().apiCalls.byOperation.query ?? 0;

    const found = await cli(["reconcile", "--objects", "customers,subscriptions"], env);
    expect(found.code, "drift exits 1").to.equal(1);
    expect(found.summary.drift).to.equal(3);
    const drift = found.of("drift");
    expect(drift.find((d) => d.externalId === data.customers[3]?.id)?.fields).to.deep.equal([
      { field: "Email__c", stripe: data.customers[3]?.email, org: "edited@example.com" },
    ]);
    expect(drift.find((d) => d.externalId === "cus_only_in_stripe")?.status).to.equal("missing");
    const objects = found.summary.objects as Record<
      string,
      { stripe: number; org: number; fieldCounts: Record<string, number> }
    >;
    expect(objects.subscriptions?.fieldCounts).to.deep.equal({ Status__c: 1 });
    expect(objects.customers).to.include({ stripe: 151, org: 150 });
    // customers: 2 pages, subscriptions: 2 pages, plus one COUNT() per object
    expect((pipeline.emulator.stats().apiCalls.byOperation.query ?? 0) - queriesBefore).to.be.at.most(6);

    const fixed = await cli(["reconcile", "--objects", "customers,subscriptions", "--fix"], env);
    expect(fixed.code, fixed.stderr).to.equal(0);
    expect(fixed.summary).to.include({ drift: 3, fixed: 3, unfixed: 0 });
    expect((await cli(["reconcile", "--objects", "customers,subscriptions"], env)).code).to.equal(0);
  });

  it("doctor passes against a healthy setup and fails, saying how to fix it, on a mapped field the org lacks; Redis's policy is checked", async () => {
    const healthy = await cli(["doctor"], env);
    expect(healthy.code, JSON.stringify(healthy.of("check").filter((c) => c.status === "fail"))).to.equal(0);
    const checks = healthy.of("check");
    expect(checks.find((c) => c.check === "salesforce login")?.status).to.equal("ok");
    expect(checks.find((c) => c.check === "queue redrive policy")?.status).to.equal("warn"); // the pipeline's maxReceiveCount is 10

    const admin = new Redis(infra.redisServer.url);
    await admin.config("SET", "maxmemory-policy", "volatile-lru");
    pipeline.emulator.schema.dropField("Stripe_Customer__c", "Phone__c");
    try {
      const sick = await cli(["doctor"], env);
      expect(sick.code).to.equal(1);
      const objects = sick.of("check").find((c) => c.check === "salesforce objects");
      expect(objects).to.include({ status: "fail" });
      expect(String(objects?.detail)).to.include("Stripe_Customer__c.Phone__c");
      expect(String(objects?.fix)).to.include("MAPPING_FILE");
      expect(sick.of("check").find((c) => c.check === "redis eviction policy")).to.include({
        status: "warn",
      });
    } finally {
      await admin.config("SET", "maxmemory-policy", "noeviction");
      admin.disconnect();
    }
  });

  it("doctor compares the Stripe webhook endpoints' enabled events with the handled types", async () => {
    stripe.seed({
      id: "we_1",
      object: "webhook_endpoint",
      url: "https://sync.example.com/webhook/stripe",
      status: "enabled",
      livemode: false,
      enabled_events: ["customer.updated", "invoice.paid"],
      created: now(),
    });
    const run = await cli(["doctor"], env);
    const endpoint = run.of("check").filter((c) => String(c.check).startsWith("stripe endpoint"));
    expect(endpoint.map((c) => c.status)).to.deep.equal(["warn", "warn"]);
    expect(String(endpoint[0]?.detail)).to.include("payment_intent.succeeded");
    expect(String(endpoint[1]?.detail)).to.include("invoice.paid");
  });

  it("trace tells an applied event, with its records, from a dead-lettered one and from an unknown one", async () => {
    const applied = loadEvent("customer.updated", {
      id: "evt_trace_1",
      object: { id: "cus_trace_1", name: "Traced" },
    });
    stripe.seed(applied as unknown as Record<string, unknown>);
    await pipeline.sendEvent(applied);
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_trace_1");
    const run = await cli(["trace", "evt_trace_1"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(String(run.summary.verdict)).to.match(/^applied/);
    expect(run.summary.store).to.deep.include({ applied: true });
    expect(run.of("record")[0]).to.include({
      externalId: "cus_trace_1",
      exists: true,
      lastEventId: "evt_trace_1",
    });

    const tooLong = loadEvent("customer.updated", {
      id: "evt_trace_2",
      object: { id: "cus_trace_2", name: "x".repeat(90), email: null },
    });
    pipeline.emulator.faults.add({
      type: "record_error",
      externalId: "cus_trace_2",
      statusCode: "STRING_TOO_LONG",
    });
    await pipeline.sendEvent(tooLong);
    await pipeline.waitUntilQueueEmpty();
    const parked = await cli(["trace", "evt_trace_2"], env);
    expect(String(parked.summary.verdict)).to.match(/^dead-lettered: STRING_TOO_LONG/);

    // This worker trusts no EventBridge destination: the envelope is parked whole, its event inside.
    const envelope = loadEvent("customer.updated", { id: "evt_trace_3", object: { id: "cus_trace_3" } });
    await pipeline.enqueueBody(eventBridgeBody(envelope, { source: "aws.partner/stripe.com/ed_unknown" }));
    await pipeline.waitUntilQueueEmpty();
    const untrusted = await cli(["trace", "evt_trace_3"], env);
    expect(String(untrusted.summary.verdict)).to.match(/^dead-lettered: untrusted_source/);
    expect(untrusted.summary.event).to.deep.include({ type: "customer.updated", objectId: "cus_trace_3" });

    const unknown = await cli(["trace", "evt_nowhere"], env);
    expect(unknown.code).to.equal(1);
    expect(String(unknown.summary.verdict)).to.match(/^unknown/);
  });
});

import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { metricValue } from "../salesforce/salesforce-test-kit.js";
import { eventBridgeBody, loadThinEvent, TRUSTED_EVENTBRIDGE_ENV } from "../support/eventbridge.js";
import { startStripeApiStandIn, type StripeApiStandIn } from "../support/stripe-api-stand-in.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import {
  buildEventStream,
  eventsWrittenTwice,
  recordsOffExpectation,
  shuffled,
  type EventStream,
} from "./support/event-stream.js";
import {
  externalIdFieldOf,
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";

const ACCOUNT = "acct_1E2eConnectedShop";
const SUBSCRIPTION = "sub_1QxSub0001AbCdEf";
const PAYMENT = "pi_3QxPi0001AbCdEfGh";
const FAILED_PAYMENT = "pi_3QxPiKwd01AbCdEf";
const CUSTOMER = "cus_RnQk1aB2cD3eF4";

/** The event as the platform receives it from a connected account (its Connect endpoint or destination). */
const ofAccount = (event: StripeEvent, account = ACCOUNT): StripeEvent => ({ ...event, account });

/** Seeds the stand-in with each record's newest object in `stream`: Stripe's current state, what re-reads find. */
function seedCurrentState(standIn: StripeApiStandIn, stream: EventStream, account?: string): void {
  const newest = new Map<string, StripeEvent>();
  for (const event of stream.events) {
    if (event.type === "checkout.session.completed") continue;
    const id = String(event.data.object.id);
    if ((newest.get(id)?.created ?? -1) < event.created) newest.set(id, event);
  }
  for (const event of newest.values()) standIn.seed(event.data.object, account ? { account } : {});
}

describe("end to end: Stripe Connect accounts", function () {
  this.timeout(120_000);
  let infra: Infrastructure;
  let standIn: StripeApiStandIn;
  let pipeline: Pipeline;
  const env = () => ({
    ...TRUSTED_EVENTBRIDGE_ENV,
    STRIPE_API_KEY: "sk_test_e2eConnectPlatform",
    STRIPE_API_BASE: standIn.url,
  });

  before(async () => {
    [infra, standIn] = await Promise.all([startInfrastructure(), startStripeApiStandIn()]);
  });
  after(async () => {
    await Promise.all([infra.stop(), standIn.stop()]);
  });
  beforeEach(() => standIn.reset());
  afterEach(async () => {
    await pipeline.stop();
  });

  it("a connected account's events are re-read on its behalf and land with its account, parent stubs included", async () => {
    pipeline = await startPipeline(infra, { env: env() });
    const subscription = ofAccount(loadEvent("customer.subscription.updated"));
    const failed = ofAccount(loadEvent("payment_intent.payment_failed"));
    standIn.seed({ ...subscription.data.object, status: "past_due" }, { account: ACCOUNT });
    standIn.seed({ ...failed.data.object, description: "as Stripe has it now" }, { account: ACCOUNT });

    await pipeline.sendEvent(subscription);
    await pipeline.enqueueBody(eventBridgeBody(failed));
    await pipeline.waitForRecord("Payment_Transaction__c", FAILED_PAYMENT);
    await pipeline.waitUntilQueueEmpty();

    expect(pipeline.record("Stripe_Subscription__c", SUBSCRIPTION)).to.include({
      Status__c: "past_due",
      Stripe_Account_Id__c: ACCOUNT,
    });
    expect(pipeline.record("Payment_Transaction__c", FAILED_PAYMENT)).to.include({
      Status__c: "Failed",
      Description__c: "as Stripe has it now",
      Stripe_Account_Id__c: ACCOUNT,
    });
    for (const customer of [CUSTOMER, String(failed.data.object.customer)])
      expect(pipeline.record("Stripe_Customer__c", customer), `parent stub ${customer}`).to.include({
        Name: customer,
        Stripe_Account_Id__c: ACCOUNT,
      });
    const reads = standIn.requests();
    expect(reads.map((r) => r.path)).to.include.members([
      `/v1/subscriptions/${SUBSCRIPTION}`,
      `/v1/payment_intents/${FAILED_PAYMENT}`,
    ]);
    expect(reads.every((r) => r.stripeAccount === ACCOUNT && r.status === 200)).to.equal(true);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("mixed platform and connected-account streams, duplicated and reordered, never share a record", async () => {
    pipeline = await startPipeline(infra, { env: env() });
    const platform = buildEventStream("plat", 3);
    const theirs = buildEventStream("conn", 3, 1_760_000_000);
    theirs.events = theirs.events.map((event) => ofAccount(event));
    seedCurrentState(standIn, platform);
    seedCurrentState(standIn, theirs, ACCOUNT);

    const deliveries = shuffled(
      [...platform.events, ...theirs.events, ...platform.events, ...theirs.events],
      5,
    );
    for (const [i, event] of deliveries.entries()) {
      if (i % 2 === 0) await pipeline.sendEvent(event);
      else await pipeline.enqueueBody(eventBridgeBody(event));
    }
    await pipeline.waitUntilQueueEmpty(60_000);

    expect(recordsOffExpectation(platform, pipeline.record)).to.deep.equal([]);
    expect(recordsOffExpectation(theirs, pipeline.record)).to.deep.equal([]);
    for (const object of ["Stripe_Customer__c", "Stripe_Subscription__c", "Payment_Transaction__c"]) {
      const records = pipeline.emulator.records(object);
      expect(records).to.have.length(6);
      for (const record of records) {
        const externalId = String(record[externalIdFieldOf(object)]);
        const expected = externalId.includes("_conn_") ? ACCOUNT : null;
        expect(record.Stripe_Account_Id__c ?? null, `${object} ${externalId}`).to.equal(expected);
      }
    }
    expect(eventsWrittenTwice(pipeline.emulator.history())).to.deep.equal([]);
    const reads = standIn.requests();
    expect(
      reads.some((r) => r.path.includes("_conn_")) && reads.some((r) => r.path.includes("_plat_")),
    ).to.equal(true);
    for (const read of reads) {
      expect(read.status, read.path).to.equal(200);
      expect(read.stripeAccount, read.path).to.equal(read.path.includes("_conn_") ? ACCOUNT : undefined);
    }
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("a connected account's thin event from EventBridge is fetched on its behalf and written with its account", async () => {
    pipeline = await startPipeline(infra, { env: env() });
    standIn.seed(loadEvent("customer.updated").data.object, { account: ACCOUNT });
    await pipeline.enqueueBody(eventBridgeBody(loadThinEvent("v1.customer.updated", { context: ACCOUNT })));
    const customer = await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER);
    expect(customer).to.include({ Name: "Jenny Rosen", Stripe_Account_Id__c: ACCOUNT });
    expect(standIn.requests().every((r) => r.stripeAccount === ACCOUNT)).to.equal(true);
  });

  it("a connected account's thin event posted to the webhook (a webhook event destination) lands the same way", async () => {
    pipeline = await startPipeline(infra, { env: env() });
    standIn.seed(loadEvent("customer.updated").data.object, { account: ACCOUNT });
    await pipeline.sendEvent(loadThinEvent("v1.customer.updated", { context: ACCOUNT }));
    const customer = await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER);
    expect(customer).to.include({ Name: "Jenny Rosen", Stripe_Account_Id__c: ACCOUNT });
    expect(standIn.requests().every((r) => r.stripeAccount === ACCOUNT)).to.equal(true);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("in an org without Stripe_Account_Id__c, Connect events still land, without it, and a metric counts them", async () => {
    pipeline = await startPipeline(infra, { workers: 0 });
    for (const object of ["Stripe_Customer__c", "Stripe_Subscription__c", "Payment_Transaction__c"])
      pipeline.emulator.schema.dropField(object, "Stripe_Account_Id__c");
    const [worker] = await pipeline.startWorkers(1);
    await pipeline.sendEvent(ofAccount(loadEvent("customer.updated")));
    await pipeline.sendEvent(ofAccount(loadEvent("payment_intent.succeeded")));
    await pipeline.waitForRecord("Payment_Transaction__c", PAYMENT);
    await pipeline.waitUntilQueueEmpty();

    expect(pipeline.record("Stripe_Customer__c", CUSTOMER)).not.to.have.property("Stripe_Account_Id__c");
    const counted = worker!.metrics.connectWritesWithoutAccount;
    expect(await metricValue(counted, { object: "Stripe_Customer__c" })).to.equal(1);
    expect(await metricValue(counted, { object: "Payment_Transaction__c" })).to.equal(1);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });
});

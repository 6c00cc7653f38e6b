import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";

const CUSTOMER = "cus_RnQk1aB2cD3eF4";
const SUBSCRIPTION = "sub_1QxSub0001AbCdEf";
const PAYMENT = "pi_3QxPi0001AbCdEfGh";

describe("end to end: duplicates and out-of-order deliveries", function () {
  this.timeout(90_000);
  let infra: Infrastructure;
  let pipeline: Pipeline;

  before(async () => {
    infra = await startInfrastructure();
  });
  after(async () => {
    await infra.stop();
  });
  beforeEach(async () => {
    pipeline = await startPipeline(infra);
  });
  afterEach(async () => {
    await pipeline.stop();
  });

  /** Delivers one event through the webhook and waits until the worker took it off the queue. */
  async function deliver(event: StripeEvent): Promise<void> {
    await pipeline.sendEvent(event);
    await pipeline.waitUntilQueueEmpty();
  }

  it("the same event delivered twice costs no second Salesforce API call", async () => {
    const event = loadEvent("payment_intent.succeeded");
    await deliver(event);
    await pipeline.waitForRecord("Payment_Transaction__c", PAYMENT);
    const afterFirst = pipeline.emulator.stats();
    expect(afterFirst.apiCalls.total, "the first delivery wrote something").to.be.greaterThan(0);

    await deliver(event);

    const afterSecond = pipeline.emulator.stats();
    expect(afterSecond.apiCalls).to.deep.equal(afterFirst.apiCalls);
    expect(afterSecond.records).to.deep.equal(afterFirst.records);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("an older customer.updated after a newer one changes nothing", async () => {
    await deliver(
      loadEvent("customer.updated", {
        id: "evt_e2e_newer",
        created: 1735693300,
        object: { name: "Newer Name" },
      }),
    );
    await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER, (r) => r.Name === "Newer Name");

    await deliver(
      loadEvent("customer.updated", {
        id: "evt_e2e_older",
        created: 1735693200,
        object: { name: "Older Name" },
      }),
    );

    const customer = pipeline.record("Stripe_Customer__c", CUSTOMER);
    expect(customer?.Name).to.equal("Newer Name");
    expect(customer?.Last_Stripe_Event_Id__c).to.equal("evt_e2e_newer");
    expect(customer?.Last_Stripe_Event_At__c).to.equal("2025-01-01T01:01:40.000+0000");
  });

  it("two updates of the same second apply in delivery order", async () => {
    await deliver(
      loadEvent("customer.updated", { id: "evt_e2e_same_1", created: 1735693200, object: { name: "First" } }),
    );
    await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER, (r) => r.Name === "First");

    await deliver(
      loadEvent("customer.updated", {
        id: "evt_e2e_same_2",
        created: 1735693200,
        object: { name: "Second" },
      }),
    );

    const customer = pipeline.record("Stripe_Customer__c", CUSTOMER);
    expect(customer?.Name).to.equal("Second");
    expect(customer?.Last_Stripe_Event_Id__c).to.equal("evt_e2e_same_2");
  });

  it("a deleted subscription stays canceled against a stale update and one of the same second", async () => {
    const deleted = loadEvent("customer.subscription.deleted");
    await deliver(deleted);
    await pipeline.waitForRecord("Stripe_Subscription__c", SUBSCRIPTION, (r) => r.Status__c === "canceled");

    // Older than the delete.
    await deliver(loadEvent("customer.subscription.updated"));
    // The same second as the delete, still active in its payload.
    await deliver(
      loadEvent("customer.subscription.updated", {
        id: "evt_e2e_same_second_as_delete",
        created: deleted.created,
      }),
    );

    const subscription = pipeline.record("Stripe_Subscription__c", SUBSCRIPTION);
    expect(subscription?.Status__c).to.equal("canceled");
    expect(subscription?.Last_Stripe_Event_Id__c).to.equal("evt_1QxSubDeleted0001");
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("a failed payment after a succeeded one stays Succeeded", async () => {
    const succeeded = loadEvent("payment_intent.succeeded");
    await deliver(succeeded);
    await pipeline.waitForRecord("Payment_Transaction__c", PAYMENT, (r) => r.Status__c === "Succeeded");

    // Later than the success, for the same payment intent.
    await deliver(
      loadEvent("payment_intent.payment_failed", {
        id: "evt_e2e_failed_later",
        created: succeeded.created + 60,
        object: { id: PAYMENT, customer: CUSTOMER, currency: "usd" },
      }),
    );

    const payment = pipeline.record("Payment_Transaction__c", PAYMENT);
    expect(payment?.Status__c).to.equal("Succeeded");
    expect(payment?.Amount_Received__c).to.equal(19.99);
    expect(payment?.Last_Stripe_Event_Id__c).to.equal("evt_3QxPiSucceeded001");
  });
});

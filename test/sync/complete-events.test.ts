import { expect } from "chai";
import nock from "nock";
import { createStripeObjectReader } from "../../src/data-access/stripe/stripe-api-reader.js";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import type { SyncItem } from "../../src/domain/sync/sync-item.js";
import { startStripeMock, type StripeMock } from "../support/stripe-mock.js";
import { createTestSync, loadEvent, log, type TestSync } from "./support/sync-fixtures.js";

const API = "http://stripe.test";

/** The event as the webhook slims it when it is too large for the queue: data.object keeps id and kind. */
function slimmed(name: string): StripeEvent {
  const event = loadEvent(name);
  const { id, object } = event.data.object;
  return { ...event, data: { object: { id, object } } };
}

const slimItem = (event: StripeEvent): SyncItem => ({ event, isRedelivery: false, needsObject: true, log });
const fullItem = (event: StripeEvent): SyncItem => ({ event, isRedelivery: false, log });

async function syncItems(test: TestSync, ...items: SyncItem[]) {
  return test.syncer.syncEvents(items, log);
}

describe("a slimmed event (too large for the queue) is completed from Stripe before it is synced", () => {
  describe("against stripe-mock", () => {
    let stripeMock: StripeMock | undefined;
    before(async function () {
      stripeMock = await startStripeMock();
      if (!stripeMock) this.skip();
    });
    after(() => stripeMock?.stop());

    it("a slimmed subscription update is written with the subscription as Stripe has it", async () => {
      const stripe = createStripeObjectReader({
        apiKey: "sk_test_123",
        apiBase: stripeMock!.apiBase,
        maxNetworkRetries: 0,
      });
      const event = slimmed("customer.subscription.updated");
      const current = await stripe.retrieveSubscription(String(event.data.object.id));
      const test = createTestSync({ stripe });
      expect(await syncItems(test, slimItem(event))).to.deep.equal([{ status: "applied" }]);
      const record = test.writer.row("Stripe_Subscription__c", String(current?.id));
      expect(record?.Status__c).to.equal(current?.status);
      expect(record?.Last_Stripe_Event_Id__c).to.equal(event.id);
    });
  });

  describe("Stripe API answers stripe-mock cannot give (nock)", () => {
    const reader = () =>
      createStripeObjectReader({ apiKey: "sk_test_123", apiBase: API, maxNetworkRetries: 0 });
    before(() => nock.disableNetConnect());
    afterEach(() => nock.cleanAll());
    after(() => nock.enableNetConnect());

    it("a slimmed checkout.session.completed is completed from the session and marks its subscription", async () => {
      const full = loadEvent("checkout.session.completed");
      nock(API)
        .get(`/v1/checkout/sessions/${String(full.data.object.id)}`)
        .reply(200, full.data.object);
      const test = createTestSync({ stripe: reader() });
      expect(await syncItems(test, slimItem(slimmed("checkout.session.completed")))).to.deep.equal([
        { status: "applied" },
      ]);
      const subscription = String(full.data.object.subscription);
      expect(test.writer.row("Stripe_Subscription__c", subscription)).to.include({
        Checkout_Session_Id__c: full.data.object.id,
      });
    });

    it("an object Stripe no longer has (404) is dead-lettered, and nothing is written", async () => {
      const event = slimmed("payment_intent.succeeded");
      nock(API)
        .get(`/v1/payment_intents/${String(event.data.object.id)}`)
        .reply(404, {
          error: {
            type: "invalid_request_error",
            code: "resource_missing",
            message: "No such payment_intent",
          },
        });
      const test = createTestSync({ stripe: reader() });
      const [outcome] = await syncItems(test, slimItem(event));
      expect(outcome).to.include({ status: "dead-letter", reason: "object_gone" });
      expect(test.writer.calls).to.have.length(0);
    });

    it("a rate-limited read (429) is retried after Stripe's Retry-After", async () => {
      const event = slimmed("customer.updated");
      nock(API)
        .get(`/v1/customers/${String(event.data.object.id)}`)
        .reply(
          429,
          { error: { type: "rate_limit_error", message: "Too many requests" } },
          { "Retry-After": "7" },
        );
      const test = createTestSync({ stripe: reader() });
      expect(await syncItems(test, slimItem(event))).to.deep.equal([
        { status: "retry", reason: "stripe_429", scope: "record", retryAfterSeconds: 7 },
      ]);
    });

    it("a Stripe outage (500) is retried, and a complete event of the same batch is still applied", async () => {
      const event = slimmed("customer.subscription.updated");
      nock(API)
        .get(`/v1/subscriptions/${String(event.data.object.id)}`)
        .reply(500, { error: { type: "api_error", message: "boom" } });
      // The complete event is re-read too (a key is configured): Stripe has it as the event said.
      const customer = loadEvent("customer.updated");
      nock(API)
        .get(`/v1/customers/${String(customer.data.object.id)}`)
        .reply(200, customer.data.object);
      const test = createTestSync({ stripe: reader() });
      const outcomes = await syncItems(test, slimItem(event), fullItem(customer));
      expect(outcomes).to.deep.equal([
        { status: "retry", reason: "stripe_500", scope: "record" },
        { status: "applied" },
      ]);
    });

    it("a slimmed event already applied is a duplicate and costs no Stripe read", async () => {
      const event = loadEvent("customer.updated");
      nock(API)
        .get(`/v1/customers/${String(event.data.object.id)}`)
        .reply(200, event.data.object);
      const test = createTestSync({ stripe: reader() });
      expect(await test.sync(event)).to.deep.equal([{ status: "applied" }]);
      // No interceptor is left: a read would fail the sync.
      const again = { ...event, data: { object: { id: event.data.object.id, object: "customer" } } };
      expect(await syncItems(test, slimItem(again))).to.deep.equal([{ status: "duplicate" }]);
    });
  });

  it("without a Stripe API key on the worker, a slimmed event is dead-lettered saying so", async () => {
    const test = createTestSync();
    const [outcome] = await syncItems(test, slimItem(slimmed("customer.updated")));
    expect(outcome).to.include({ status: "dead-letter", reason: "needs_stripe_api_key" });
    expect((outcome as { detail: string }).detail).to.include("STRIPE_API_KEY");
    expect(test.writer.calls).to.have.length(0);
  });
});

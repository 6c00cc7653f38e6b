import { expect } from "chai";
import { existsSync } from "node:fs";
import nock from "nock";
import { createStripeObjectReader } from "../../src/data-access/stripe/stripe-api-reader.js";
import { freePort, startChild, type ChildServer } from "../support/child-server.js";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";

const API = "http://stripe.test";

/** stripe-mock from STRIPE_MOCK_BIN, .tmp/bin (`GOBIN=.tmp/bin go install github.com/stripe/stripe-mock@latest`), or PATH. */
function stripeMockBinary(): string | undefined {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  const local = new URL("../../.tmp/bin/stripe-mock", import.meta.url).pathname;
  if (existsSync(local)) return local;
  const onPath = (process.env.PATH ?? "").split(":").map((dir) => `${dir}/stripe-mock`);
  return onPath.find((candidate) => existsSync(candidate));
}

/** Ready when it answers an API call (a bare TCP probe can be fooled by nock's socket interception). */
const answersApiCalls = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/v1/customers/cus_probe`, {
    headers: { authorization: "Bearer sk_test_123" },
  });
  return response.status === 200;
};

describe("re-reading objects from the Stripe API before writing", () => {
  describe("against stripe-mock", () => {
    let server: ChildServer | undefined;
    let apiBase: string;
    before(async function () {
      const binary = stripeMockBinary();
      if (!binary) {
        // CI installs it (.ci/run); on a developer machine without Go the suite is skipped.
        if (process.env.CI)
          throw new Error("stripe-mock is required in CI: go install github.com/stripe/stripe-mock@latest");
        this.skip();
      }
      const port = await freePort();
      server = await startChild(binary as string, ["-http-port", String(port)], {
        name: "stripe-mock",
        port,
        ready: () => answersApiCalls(port),
      });
      apiBase = `http://127.0.0.1:${port}`;
    });
    after(async () => {
      await server?.stop();
    });

    it("writes the customer as Stripe has it now, not as the event carried it", async () => {
      const stripe = createStripeObjectReader({ apiKey: "sk_test_123", apiBase, maxNetworkRetries: 0 });
      const current = await stripe.retrieveCustomer("cus_RnQk1aB2cD3eF4");
      const test = createTestSync({ stripe });
      const event = loadEvent("customer.updated", {
        object: { description: "stale description from the event" },
      });
      expect(await test.sync(event)).to.deep.equal([{ status: "applied" }]);
      const record = test.writer.row("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4");
      expect(record?.Description__c).to.equal(current?.description ?? null);
      expect(record?.Stripe_Created__c).to.equal(new Date(Number(current?.created) * 1000).toISOString());
      expect(record?.Last_Stripe_Event_Id__c).to.equal(event.id);
    });

    it("maps a re-read subscription of the SDK's API version and links the customer Stripe names", async () => {
      const stripe = createStripeObjectReader({ apiKey: "sk_test_123", apiBase, maxNetworkRetries: 0 });
      const current = await stripe.retrieveSubscription("sub_1QxSub0001AbCdEf");
      const test = createTestSync({ stripe });
      expect(await test.sync(loadEvent("customer.subscription.updated"))).to.deep.equal([
        { status: "applied" },
      ]);
      const record = test.writer.row("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf");
      expect(record?.Status__c).to.equal(current?.status);
      expect(record?.Current_Period_Start__c).to.be.a("string");
      expect(record?.Stripe_Customer__r).to.deep.equal({ Stripe_Customer_Id__c: current?.customer });
      expect(test.writer.row("Stripe_Customer__c", String(current?.customer))).to.be.an("object");
    });
  });

  describe("Stripe API answers stripe-mock cannot give (nock)", () => {
    const stripe = () =>
      createStripeObjectReader({ apiKey: "sk_test_123", apiBase: API, maxNetworkRetries: 0 });
    before(() => nock.disableNetConnect());
    afterEach(() => nock.cleanAll());
    after(() => nock.enableNetConnect());

    it("a payment_failed event for an intent that has since succeeded writes Succeeded", async () => {
      const event = loadEvent("payment_intent.payment_failed");
      const current = {
        ...event.data.object,
        status: "succeeded",
        amount_received: 1234,
        last_payment_error: null,
      };
      nock(API).get("/v1/payment_intents/pi_3QxPiKwd01AbCdEf").reply(200, current);
      const test = createTestSync({ stripe: stripe() });
      expect(await test.sync(event)).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.row("Payment_Transaction__c", "pi_3QxPiKwd01AbCdEf")).to.include({
        Status__c: "Succeeded",
        Amount_Received__c: 1.234,
        Failure_Code__c: null,
      });
    });

    it("an object Stripe no longer has (404) is written from the event's payload", async () => {
      nock(API)
        .get("/v1/customers/cus_RnQk1aB2cD3eF4")
        .reply(404, {
          error: { type: "invalid_request_error", code: "resource_missing", message: "No such customer" },
        });
      const test = createTestSync({ stripe: stripe() });
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.row("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4")?.Name).to.equal("Jenny Rosen");
    });

    it("a customer deleted since the event is written from the event's payload", async () => {
      nock(API)
        .get("/v1/customers/cus_RnQk1aB2cD3eF4")
        .reply(200, { id: "cus_RnQk1aB2cD3eF4", object: "customer", deleted: true });
      const test = createTestSync({ stripe: stripe() });
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.row("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4")?.Email__c).to.equal(
        "jenny.rosen@example.com",
      );
    });

    it("a 5xx or a 429 keeps the event for a retry and writes nothing", async () => {
      nock(API)
        .get("/v1/customers/cus_RnQk1aB2cD3eF4")
        .reply(503, { error: { type: "api_error", message: "overloaded" } })
        .get("/v1/subscriptions/sub_1QxSub0001AbCdEf")
        .reply(
          429,
          { error: { type: "invalid_request_error", code: "rate_limit", message: "Too many requests" } },
          { "Retry-After": "2" },
        );
      const test = createTestSync({ stripe: stripe() });
      const outcomes = await test.sync(
        loadEvent("customer.updated"),
        loadEvent("customer.subscription.updated"),
      );
      expect(outcomes).to.deep.equal([
        { status: "retry", reason: "stripe_503", scope: "record" },
        { status: "retry", reason: "stripe_429", scope: "record", retryAfterSeconds: 2 },
      ]);
      expect(test.writer.calls).to.have.length(0);
    });

    it("a Stripe API that refuses connections keeps the event for a retry", async () => {
      nock.enableNetConnect("127.0.0.1");
      const closed = await freePort();
      const unreachable = createStripeObjectReader({
        apiKey: "sk_test_123",
        apiBase: `http://127.0.0.1:${closed}`,
        maxNetworkRetries: 0,
      });
      const test = createTestSync({ stripe: unreachable });
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([
        { status: "retry", reason: "stripe_connection", scope: "record" },
      ]);
      nock.disableNetConnect();
    });

    it("final states are not re-read: a deleted subscription is written from its payload", async () => {
      const test = createTestSync({ stripe: stripe() });
      expect(await test.sync(loadEvent("customer.subscription.deleted"))).to.deep.equal([
        { status: "applied" },
      ]);
      expect(nock.pendingMocks()).to.deep.equal([]);
    });

    it("a stale event costs no Stripe read", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.subscription.updated", { created: 2000 }));
      const rereading = createTestSync({ store: test.store, stripe: stripe(), writer: test.writer });
      const older = loadEvent("customer.subscription.updated", { id: "evt_older", created: 1000 });
      // No interceptor: a request would fail and turn the outcome into a retry.
      expect(await rereading.sync(older)).to.deep.equal([{ status: "stale" }]);
    });
  });
});

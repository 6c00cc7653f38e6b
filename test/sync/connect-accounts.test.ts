import { expect } from "chai";
import { createStripeObjectReader } from "../../src/data-access/stripe/stripe-api-reader.js";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { defaultMapping } from "../../src/domain/sync/mapping.js";
import { metricValue } from "../salesforce/salesforce-test-kit.js";
import { startStripeApiStandIn, type StripeApiStandIn } from "../support/stripe-api-stand-in.js";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";

const ACCOUNT = "acct_1ConnectedA";
const CUSTOMER = "cus_RnQk1aB2cD3eF4";

/** The fixture event as a connected account's event delivered to the platform's Connect endpoint. */
function connected(
  name: string,
  patch: Parameters<typeof loadEvent>[1] = {},
  account = ACCOUNT,
): StripeEvent {
  return { ...loadEvent(name, patch), account };
}

describe("Connect: a connected account's events", () => {
  it("set Stripe_Account_Id__c on their record and on the parent stub they create", async () => {
    const test = createTestSync();
    expect(await test.sync(connected("customer.subscription.created"))).to.deep.equal([
      { status: "applied" },
    ]);
    const subscription = test.writer.row("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf");
    expect(subscription?.Stripe_Account_Id__c).to.equal(ACCOUNT);
    const stub = test.writer.row("Stripe_Customer__c", CUSTOMER);
    expect(stub).to.include({
      Stripe_Customer_Id__c: CUSTOMER,
      Name: CUSTOMER,
      Stripe_Account_Id__c: ACCOUNT,
    });
  });

  it("set it on a checkout's completion and on a payment too", async () => {
    const test = createTestSync();
    await test.sync(connected("checkout.session.completed"), connected("payment_intent.succeeded"));
    expect(test.writer.row("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf")?.Stripe_Account_Id__c).to.equal(
      ACCOUNT,
    );
    expect(test.writer.row("Payment_Transaction__c", "pi_3QxPi0001AbCdEfGh")?.Stripe_Account_Id__c).to.equal(
      ACCOUNT,
    );
  });

  it("the platform's own events leave Stripe_Account_Id__c out altogether", async () => {
    const test = createTestSync();
    await test.sync(loadEvent("customer.subscription.created"));
    const sent = test.writer.calls.flatMap((call) => call.records);
    expect(sent).to.have.length(2);
    for (const record of sent) expect(record).not.to.have.property("Stripe_Account_Id__c");
  });

  it("never share a record with the platform's: one batch writes each Stripe id to its own record and account", async () => {
    const test = createTestSync();
    const platform = loadEvent("customer.updated", {
      id: "evt_platform_1",
      object: { id: "cus_Platform1", name: "P" },
    });
    const theirs = connected("customer.updated", {
      id: "evt_connect_1",
      object: { id: "cus_Connect1", name: "C" },
    });
    expect(await test.sync(platform, theirs)).to.deep.equal([{ status: "applied" }, { status: "applied" }]);
    expect(test.writer.row("Stripe_Customer__c", "cus_Platform1")).to.include({ Name: "P" });
    expect(test.writer.row("Stripe_Customer__c", "cus_Platform1")).not.to.have.property(
      "Stripe_Account_Id__c",
    );
    expect(test.writer.row("Stripe_Customer__c", "cus_Connect1")).to.include({
      Name: "C",
      Stripe_Account_Id__c: ACCOUNT,
    });
  });

  it("are counted by account, and the platform's as platform", async () => {
    const test = createTestSync();
    await test.sync(loadEvent("customer.updated"), connected("payment_intent.succeeded"));
    expect(await metricValue(test.metrics.accountEvents, { account: ACCOUNT, outcome: "applied" })).to.equal(
      1,
    );
    expect(
      await metricValue(test.metrics.accountEvents, { account: "platform", outcome: "applied" }),
    ).to.equal(1);
  });

  it("in an org without Stripe_Account_Id__c still land, without it, and are counted", async () => {
    const mapping = defaultMapping();
    for (const object of Object.values(mapping.objects)) delete object.fields.Stripe_Account_Id__c;
    const test = createTestSync({ mapping });
    expect(
      await test.sync(connected("customer.subscription.created"), loadEvent("customer.updated")),
    ).to.deep.equal([{ status: "applied" }, { status: "applied" }]);
    for (const record of test.writer.calls.flatMap((call) => call.records))
      expect(record).not.to.have.property("Stripe_Account_Id__c");
    const counted = test.metrics.connectWritesWithoutAccount;
    expect(await metricValue(counted, { object: "Stripe_Subscription__c" })).to.equal(1);
    expect(
      await metricValue(counted, { object: "Stripe_Customer__c" }),
      "the platform's event is not counted",
    ).to.equal(0);
  });

  describe("re-read from the Stripe API (stand-in answering only with the right Stripe-Account)", () => {
    let standIn: StripeApiStandIn;
    const reader = () =>
      createStripeObjectReader({ apiKey: "sk_test_connect1", apiBase: standIn.url, maxNetworkRetries: 0 });
    before(async () => {
      standIn = await startStripeApiStandIn({ rateLimit: false });
    });
    after(() => standIn.stop());
    beforeEach(() => standIn.reset());

    it("are re-read on behalf of their account, so the current object lands", async () => {
      const event = connected("customer.updated", { object: { description: "as the event had it" } });
      standIn.seed({ ...event.data.object, description: "as Stripe has it now" }, { account: ACCOUNT });
      const test = createTestSync({ stripe: reader() });
      expect(await test.sync(event)).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.row("Stripe_Customer__c", CUSTOMER)).to.include({
        Description__c: "as Stripe has it now",
        Stripe_Account_Id__c: ACCOUNT,
      });
      const reads = standIn.requests().filter((r) => r.path === `/v1/customers/${CUSTOMER}`);
      expect(reads.map((r) => [r.stripeAccount, r.status])).to.deep.equal([[ACCOUNT, 200]]);
    });

    it("the platform's are re-read without Stripe-Account, and a connected account's object is not found there", async () => {
      const platformEvent = loadEvent("customer.updated", { object: { description: "platform payload" } });
      standIn.seed(
        { ...platformEvent.data.object, description: "only in the account" },
        { account: ACCOUNT },
      );
      const test = createTestSync({ stripe: reader() });
      expect(await test.sync(platformEvent)).to.deep.equal([{ status: "applied" }]);
      const [read] = standIn.requests();
      expect(read?.stripeAccount).to.equal(undefined);
      expect(read?.status).to.equal(404);
      expect(test.writer.row("Stripe_Customer__c", CUSTOMER)?.Description__c, "the payload is kept").to.equal(
        "platform payload",
      );
    });
  });
});

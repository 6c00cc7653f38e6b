import { expect } from "chai";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";

const CUSTOMER = "cus_RnQk1aB2cD3eF4";
const SUBSCRIPTION = "sub_1QxSub0001AbCdEf";

/** Fields of a stored record, picked for a deep comparison. */
function pick(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((field) => [field, record[field]]));
}

describe("end to end: each Stripe event type lands in Salesforce as the contract says", function () {
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

  it("customer.updated lands field by field, balance in major units", async () => {
    await pipeline.sendEvent(loadEvent("customer.updated"));

    const customer = await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER);
    expect(
      pick(customer, [
        "Stripe_Customer_Id__c",
        "Name",
        "Email__c",
        "Phone__c",
        "Description__c",
        "Currency__c",
        "Balance__c",
        "Delinquent__c",
        "Livemode__c",
        "Stripe_Created__c",
        "Last_Stripe_Event_Id__c",
        "Last_Stripe_Event_At__c",
      ]),
    ).to.deep.equal({
      Stripe_Customer_Id__c: CUSTOMER,
      Name: "Jenny Rosen",
      Email__c: "jenny.rosen@example.com",
      Phone__c: "+14155550123",
      Description__c: "Enterprise plan, invoiced monthly",
      Currency__c: "USD",
      Balance__c: -19.99,
      Delinquent__c: true,
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T00:00:00.000+0000",
      Last_Stripe_Event_Id__c: "evt_1QxCustUpdated0001",
      Last_Stripe_Event_At__c: "2025-01-01T01:00:00.000+0000",
    });
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(1);
  });

  it("a customer without a name is named by its email, and without either by its id", async () => {
    await pipeline.sendEvent(
      loadEvent("customer.updated", { id: "evt_e2e_noname", object: { id: "cus_e2e_noname", name: null } }),
    );
    await pipeline.sendEvent(
      loadEvent("customer.updated", {
        id: "evt_e2e_noemail",
        object: { id: "cus_e2e_noemail", name: null, email: null },
      }),
    );

    const byEmail = await pipeline.waitForRecord("Stripe_Customer__c", "cus_e2e_noname");
    const byId = await pipeline.waitForRecord("Stripe_Customer__c", "cus_e2e_noemail");
    expect(byEmail.Name).to.equal("jenny.rosen@example.com");
    expect(byId.Name).to.equal("cus_e2e_noemail");
  });

  it("a subscription lands created, updated, completed by checkout and deleted, linked to its customer", async () => {
    await pipeline.sendEvent(loadEvent("customer.updated"));
    const customer = await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER);

    await pipeline.sendEvent(loadEvent("customer.subscription.created"));
    const created = await pipeline.waitForRecord("Stripe_Subscription__c", SUBSCRIPTION);
    expect(
      pick(created, [
        "Stripe_Subscription_Id__c",
        "Name",
        "Stripe_Customer__c",
        "Status__c",
        "Current_Period_Start__c",
        "Current_Period_End__c",
        "Cancel_At_Period_End__c",
        "Canceled_At__c",
        "Ended_At__c",
        "Trial_End__c",
        "Price_Id__c",
        "Product_Id__c",
        "Quantity__c",
        "Amount__c",
        "Currency__c",
        "Interval__c",
        "Sync_Status__c",
        "Livemode__c",
        "Stripe_Created__c",
        "Last_Stripe_Event_Id__c",
        "Last_Stripe_Event_At__c",
      ]),
    ).to.deep.equal({
      Stripe_Subscription_Id__c: SUBSCRIPTION,
      Name: SUBSCRIPTION,
      Stripe_Customer__c: customer.Id,
      Status__c: "incomplete",
      Current_Period_Start__c: "2025-01-01T02:00:00.000+0000",
      Current_Period_End__c: "2025-02-01T02:00:00.000+0000",
      Cancel_At_Period_End__c: false,
      Canceled_At__c: null,
      Ended_At__c: null,
      Trial_End__c: null,
      Price_Id__c: "price_1QxPriceMonthly",
      Product_Id__c: "prod_RnQkProduct01",
      Quantity__c: 3,
      Amount__c: 59.97,
      Currency__c: "USD",
      Interval__c: "month",
      Sync_Status__c: "Pending",
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T02:00:00.000+0000",
      Last_Stripe_Event_Id__c: "evt_1QxSubCreated0001",
      Last_Stripe_Event_At__c: "2025-01-01T02:00:00.000+0000",
    });

    await pipeline.sendEvent(loadEvent("customer.subscription.updated"));
    const updated = await pipeline.waitForRecord(
      "Stripe_Subscription__c",
      SUBSCRIPTION,
      (r) => r.Last_Stripe_Event_Id__c === "evt_1QxSubUpdated0001",
    );
    // Two items: 3 x 19.99 + 2 x 5.00; the first item's product arrives expanded.
    expect(pick(updated, ["Status__c", "Amount__c", "Product_Id__c", "Quantity__c"])).to.deep.equal({
      Status__c: "active",
      Amount__c: 69.97,
      Product_Id__c: "prod_RnQkProduct01",
      Quantity__c: 3,
    });

    // The session's event is older than the update: it still completes the sync, and changes nothing else.
    await pipeline.sendEvent(loadEvent("checkout.session.completed"));
    const completed = await pipeline.waitForRecord(
      "Stripe_Subscription__c",
      SUBSCRIPTION,
      (r) => r.Sync_Status__c === "Completed",
    );
    expect(pick(completed, ["Checkout_Session_Id__c", "Status__c", "Amount__c"])).to.deep.equal({
      Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
      Status__c: "active",
      Amount__c: 69.97,
    });

    await pipeline.sendEvent(loadEvent("customer.subscription.deleted"));
    const deleted = await pipeline.waitForRecord(
      "Stripe_Subscription__c",
      SUBSCRIPTION,
      (r) => r.Last_Stripe_Event_Id__c === "evt_1QxSubDeleted0001",
    );
    expect(
      pick(deleted, [
        "Status__c",
        "Canceled_At__c",
        "Ended_At__c",
        "Sync_Status__c",
        "Checkout_Session_Id__c",
        "Stripe_Customer__c",
        "Last_Stripe_Event_At__c",
      ]),
    ).to.deep.equal({
      Status__c: "canceled",
      Canceled_At__c: "2025-02-01T02:00:00.000+0000",
      Ended_At__c: "2025-02-01T02:00:00.000+0000",
      Sync_Status__c: "Completed",
      Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
      Stripe_Customer__c: customer.Id,
      Last_Stripe_Event_At__c: "2025-02-01T02:00:00.000+0000",
    });
    expect(pipeline.emulator.records("Stripe_Subscription__c")).to.have.length(1);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(1);
  });

  it("a checkout session without a subscription is acknowledged and writes nothing", async () => {
    await pipeline.sendEvent(loadEvent("checkout.session.completed.payment-mode"));
    await pipeline.waitUntilQueueEmpty();

    expect(pipeline.emulator.stats().records).to.deep.equal({ created: 0, updated: 0, failed: 0 });
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("payments land in major units: 19.99 USD, 5000 JPY as 5000, 1234 KWD fils as 1.234", async () => {
    await pipeline.sendEvent(loadEvent("customer.updated"));
    const customer = await pipeline.waitForRecord("Stripe_Customer__c", CUSTOMER);

    await pipeline.sendEvent(loadEvent("payment_intent.succeeded"));
    await pipeline.sendEvent(
      loadEvent("payment_intent.succeeded", {
        id: "evt_e2e_yen",
        object: { id: "pi_e2e_yen", currency: "jpy", amount: 5000, amount_received: 5000 },
      }),
    );
    await pipeline.sendEvent(loadEvent("payment_intent.payment_failed"));

    const usd = await pipeline.waitForRecord("Payment_Transaction__c", "pi_3QxPi0001AbCdEfGh");
    expect(
      pick(usd, [
        "Stripe_Payment_Intent_Id__c",
        "Name",
        "Stripe_Customer__c",
        "Amount__c",
        "Amount_Received__c",
        "Currency__c",
        "Status__c",
        "Failure_Code__c",
        "Failure_Message__c",
        "Payment_Method_Type__c",
        "Description__c",
        "Receipt_Email__c",
        "Livemode__c",
        "Stripe_Created__c",
        "Last_Stripe_Event_Id__c",
        "Last_Stripe_Event_At__c",
      ]),
    ).to.deep.equal({
      Stripe_Payment_Intent_Id__c: "pi_3QxPi0001AbCdEfGh",
      Name: "pi_3QxPi0001AbCdEfGh",
      Stripe_Customer__c: customer.Id,
      Amount__c: 19.99,
      Amount_Received__c: 19.99,
      Currency__c: "USD",
      Status__c: "Succeeded",
      Failure_Code__c: null,
      Failure_Message__c: null,
      Payment_Method_Type__c: "card",
      Description__c: "Invoice A1B2C3D4-0002",
      Receipt_Email__c: "jenny.rosen@example.com",
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T02:59:50.000+0000",
      Last_Stripe_Event_Id__c: "evt_3QxPiSucceeded001",
      Last_Stripe_Event_At__c: "2025-01-01T03:00:00.000+0000",
    });

    const yen = await pipeline.waitForRecord("Payment_Transaction__c", "pi_e2e_yen");
    expect(pick(yen, ["Amount__c", "Amount_Received__c", "Currency__c"])).to.deep.equal({
      Amount__c: 5000,
      Amount_Received__c: 5000,
      Currency__c: "JPY",
    });

    const kwd = await pipeline.waitForRecord("Payment_Transaction__c", "pi_3QxPiKwd01AbCdEf");
    expect(
      pick(kwd, [
        "Amount__c",
        "Amount_Received__c",
        "Currency__c",
        "Status__c",
        "Failure_Code__c",
        "Failure_Message__c",
        "Payment_Method_Type__c",
        "Description__c",
        "Receipt_Email__c",
        "Last_Stripe_Event_Id__c",
        "Last_Stripe_Event_At__c",
      ]),
    ).to.deep.equal({
      Amount__c: 1.234,
      Amount_Received__c: 0,
      Currency__c: "KWD",
      Status__c: "Failed",
      Failure_Code__c: "card_declined",
      Failure_Message__c: "Your card has insufficient funds.",
      Payment_Method_Type__c: "card",
      Description__c: "Annual licence",
      Receipt_Email__c: null,
      Last_Stripe_Event_Id__c: "evt_3QxPiFailed00001",
      Last_Stripe_Event_At__c: "2025-01-01T02:58:20.000+0000",
    });
  });

  it("a payment for a customer never seen creates the parent, named by its id, and links to it", async () => {
    await pipeline.sendEvent(loadEvent("payment_intent.payment_failed"));

    const payment = await pipeline.waitForRecord("Payment_Transaction__c", "pi_3QxPiKwd01AbCdEf");
    const parent = pipeline.record("Stripe_Customer__c", "cus_NeverSeen00001");
    expect(parent, "the parent customer").to.not.equal(undefined);
    expect(pick(parent!, ["Stripe_Customer_Id__c", "Name"])).to.deep.equal({
      Stripe_Customer_Id__c: "cus_NeverSeen00001",
      Name: "cus_NeverSeen00001",
    });
    expect(payment.Stripe_Customer__c).to.equal(parent!.Id);

    // A later customer.updated fills the stub in rather than creating a second record.
    await pipeline.sendEvent(
      loadEvent("customer.updated", {
        id: "evt_e2e_fill_stub",
        created: 1735700500,
        object: { id: "cus_NeverSeen00001", name: "Fatima Al-Sabah" },
      }),
    );
    const filled = await pipeline.waitForRecord(
      "Stripe_Customer__c",
      "cus_NeverSeen00001",
      (r) => r.Name === "Fatima Al-Sabah",
    );
    expect(filled.Id).to.equal(parent!.Id);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(1);
  });

  it("a subscription from an endpoint pinned to API version 2020-08-27 maps current_period_* from the subscription", async () => {
    await pipeline.sendEvent(loadEvent("customer.subscription.updated.2020-08-27"));

    const subscription = await pipeline.waitForRecord("Stripe_Subscription__c", "sub_1QxSubOld0001JpY");
    const customer = pipeline.record("Stripe_Customer__c", "cus_RnQkJapan0001");
    expect(customer, "the customer, named by the expanded object's id").to.not.equal(undefined);
    expect(
      pick(subscription, [
        "Stripe_Customer__c",
        "Status__c",
        "Current_Period_Start__c",
        "Current_Period_End__c",
        "Cancel_At_Period_End__c",
        "Canceled_At__c",
        "Trial_End__c",
        "Price_Id__c",
        "Product_Id__c",
        "Quantity__c",
        "Amount__c",
        "Currency__c",
        "Interval__c",
      ]),
    ).to.deep.equal({
      Stripe_Customer__c: customer!.Id,
      Status__c: "trialing",
      Current_Period_Start__c: "2025-01-01T00:00:00.000+0000",
      Current_Period_End__c: "2025-02-01T00:00:00.000+0000",
      Cancel_At_Period_End__c: true,
      Canceled_At__c: "2025-01-01T02:53:20.000+0000",
      Trial_End__c: "2025-01-08T00:00:00.000+0000",
      Price_Id__c: "price_1QxPriceYen",
      Product_Id__c: "prod_RnQkYen0001",
      Quantity__c: 2,
      Amount__c: 10000,
      Currency__c: "JPY",
      Interval__c: "month",
    });
  });
});

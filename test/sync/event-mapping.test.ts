import { expect } from "chai";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";

/** Syncs one event after its customer exists, and returns the record written for `object`. */
async function writtenRecord(eventName: string, object: string, options: { customerFirst?: boolean } = {}) {
  const test = createTestSync();
  if (options.customerFirst ?? true) await test.sync(loadEvent("customer.created"));
  const outcomes = await test.sync(loadEvent(eventName));
  expect(outcomes).to.deep.equal([{ status: "applied" }]);
  const call = test.writer.calls.findLast((c) => c.objectName === object);
  return { record: call?.records.at(-1), test };
}

describe("what each event type writes", () => {
  it("customer.created writes the customer, Name falling back to the email", async () => {
    const { record } = await writtenRecord("customer.created", "Stripe_Customer__c", {
      customerFirst: false,
    });
    expect(record).to.deep.equal({
      Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4",
      Name: "jenny.rosen@example.com",
      Email__c: "jenny.rosen@example.com",
      Phone__c: null,
      Description__c: null,
      Currency__c: null,
      Balance__c: 0,
      Delinquent__c: false,
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T00:00:00.000Z",
      Deleted__c: false,
      Last_Stripe_Event_Id__c: "evt_1QxCustCreated0001",
      Last_Stripe_Event_At__c: "2025-01-01T00:00:00.000Z",
    });
  });

  it("customer.updated writes every contract field, balance in major units", async () => {
    const { record } = await writtenRecord("customer.updated", "Stripe_Customer__c");
    expect(record).to.deep.equal({
      Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4",
      Name: "Jenny Rosen",
      Email__c: "jenny.rosen@example.com",
      Phone__c: "+14155550123",
      Description__c: "Enterprise plan, invoiced monthly",
      Currency__c: "USD",
      Balance__c: -19.99,
      Delinquent__c: true,
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T00:00:00.000Z",
      Deleted__c: false,
      Last_Stripe_Event_Id__c: "evt_1QxCustUpdated0001",
      Last_Stripe_Event_At__c: "2025-01-01T01:00:00.000Z",
    });
  });

  it("a customer without name or email is named by its id, cut to 80", async () => {
    const test = createTestSync();
    const longId = `cus_${"x".repeat(100)}`;
    await test.sync(loadEvent("customer.created", { object: { id: longId, email: null, name: null } }));
    expect(test.writer.calls[0]?.records[0]?.Name).to.equal(longId.slice(0, 80));
  });

  it("customer.deleted marks the customer Deleted__c", async () => {
    const { test } = await writtenRecord("customer.deleted", "Stripe_Customer__c");
    expect(test.writer.row("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4")).to.include({
      Deleted__c: true,
      Name: "Jenny Rosen",
      Last_Stripe_Event_Id__c: "evt_1QxCustDeleted0001",
    });
  });

  it("customer.subscription.created (newest API shape) writes a Pending subscription linked to its customer", async () => {
    const { record } = await writtenRecord("customer.subscription.created", "Stripe_Subscription__c");
    expect(record).to.deep.equal({
      Stripe_Subscription_Id__c: "sub_1QxSub0001AbCdEf",
      Name: "sub_1QxSub0001AbCdEf",
      Status__c: "incomplete",
      Current_Period_Start__c: "2025-01-01T02:00:00.000Z",
      Current_Period_End__c: "2025-02-01T02:00:00.000Z",
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
      Livemode__c: false,
      Stripe_Created__c: "2025-01-01T02:00:00.000Z",
      Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4" },
      Sync_Status__c: "Pending",
      Last_Stripe_Event_Id__c: "evt_1QxSubCreated0001",
      Last_Stripe_Event_At__c: "2025-01-01T02:00:00.000Z",
    });
  });

  it("customer.subscription.updated sums all items and reads an expanded product", async () => {
    const { record } = await writtenRecord("customer.subscription.updated", "Stripe_Subscription__c");
    expect(record).to.include({
      Status__c: "active",
      Product_Id__c: "prod_RnQkProduct01",
      Amount__c: 69.97,
      Quantity__c: 3,
      Sync_Status__c: "Pending",
    });
  });

  it("a subscription rendered for API version 2020-08-27 takes current_period_* from the subscription", async () => {
    const { record } = await writtenRecord(
      "customer.subscription.updated.2020-08-27",
      "Stripe_Subscription__c",
      {
        customerFirst: false,
      },
    );
    expect(record).to.deep.include({
      Stripe_Subscription_Id__c: "sub_1QxSubOld0001JpY",
      Status__c: "trialing",
      Current_Period_Start__c: "2025-01-01T00:00:00.000Z",
      Current_Period_End__c: "2025-02-01T00:00:00.000Z",
      Cancel_At_Period_End__c: true,
      Canceled_At__c: "2025-01-01T02:53:20.000Z",
      Trial_End__c: "2025-01-08T00:00:00.000Z",
      Price_Id__c: "price_1QxPriceYen",
      Product_Id__c: "prod_RnQkYen0001",
      Quantity__c: 2,
      Amount__c: 10000,
      Currency__c: "JPY",
      Interval__c: "month",
      Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_RnQkJapan0001" },
    });
  });

  it("customer.subscription.deleted writes canceled with its end dates", async () => {
    const { record } = await writtenRecord("customer.subscription.deleted", "Stripe_Subscription__c");
    expect(record).to.include({
      Status__c: "canceled",
      Canceled_At__c: "2025-02-01T02:00:00.000Z",
      Ended_At__c: "2025-02-01T02:00:00.000Z",
      Amount__c: 59.97,
    });
  });

  it("payment_intent.succeeded writes a Succeeded payment in USD", async () => {
    const { record } = await writtenRecord("payment_intent.succeeded", "Payment_Transaction__c");
    expect(record).to.deep.equal({
      Stripe_Payment_Intent_Id__c: "pi_3QxPi0001AbCdEfGh",
      Name: "pi_3QxPi0001AbCdEfGh",
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
      Stripe_Created__c: "2025-01-01T02:59:50.000Z",
      Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4" },
      Last_Stripe_Event_Id__c: "evt_3QxPiSucceeded001",
      Last_Stripe_Event_At__c: "2025-01-01T03:00:00.000Z",
    });
  });

  it("payment_intent.payment_failed writes a Failed KWD payment with the error's code, message and method type", async () => {
    const test = createTestSync();
    await test.sync(loadEvent("payment_intent.payment_failed"));
    const record = test.writer.row("Payment_Transaction__c", "pi_3QxPiKwd01AbCdEf");
    expect(record).to.deep.include({
      Amount__c: 1.234,
      Amount_Received__c: 0,
      Currency__c: "KWD",
      Status__c: "Failed",
      Failure_Code__c: "card_declined",
      Failure_Message__c: "Your card has insufficient funds.",
      Payment_Method_Type__c: "card",
      Receipt_Email__c: null,
    });
  });

  it("a failure without code records the decline code, and a long message is cut to 255", async () => {
    const test = createTestSync();
    const event = loadEvent("payment_intent.payment_failed");
    const error = event.data.object.last_payment_error as Record<string, unknown>;
    error.code = null;
    error.message = "m".repeat(400);
    await test.sync(event);
    const record = test.writer.row("Payment_Transaction__c", "pi_3QxPiKwd01AbCdEf");
    expect(record?.Failure_Code__c).to.equal("insufficient_funds");
    expect(record?.Failure_Message__c).to.have.length(255);
  });

  it("a payment without customer leaves the lookup empty and upserts no parent", async () => {
    const test = createTestSync();
    await test.sync(loadEvent("payment_intent.succeeded", { object: { customer: null } }));
    expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal(["Payment_Transaction__c"]);
    expect(test.writer.calls[0]?.records[0]).to.not.have.property("Stripe_Customer__r");
  });

  it("checkout.session.completed with a subscription marks it Completed with the session id, and moves no last-event field", async () => {
    const { record } = await writtenRecord("checkout.session.completed", "Stripe_Subscription__c");
    expect(record).to.deep.equal({
      Stripe_Subscription_Id__c: "sub_1QxSub0001AbCdEf",
      Name: "sub_1QxSub0001AbCdEf",
      Sync_Status__c: "Completed",
      Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
      Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4" },
    });
  });

  it("checkout.session.completed without a subscription is ignored and writes nothing", async () => {
    const test = createTestSync();
    const outcomes = await test.sync(loadEvent("checkout.session.completed.payment-mode"));
    expect(outcomes).to.deep.equal([{ status: "ignored", reason: "checkout_without_subscription" }]);
    expect(test.writer.calls).to.have.length(0);
  });

  it("an event type without handler is ignored, never retried", async () => {
    const test = createTestSync();
    expect(await test.sync(loadEvent("invoice.paid"))).to.deep.equal([
      { status: "ignored", reason: "unhandled_event_type" },
    ]);
    expect(test.writer.calls).to.have.length(0);
  });

  it("a payload without id or with a wrong shape is dead-lettered as unmappable_payload", async () => {
    const test = createTestSync();
    const noId = loadEvent("customer.updated", { object: { id: undefined } });
    const badStatus = loadEvent("customer.subscription.updated", { object: { status: 42 } });
    const outcomes = await test.sync(noId, badStatus);
    expect(outcomes.map((o) => o.status)).to.deep.equal(["dead-letter", "dead-letter"]);
    expect(outcomes.map((o) => (o.status === "dead-letter" ? o.reason : ""))).to.deep.equal([
      "unmappable_payload",
      "unmappable_payload",
    ]);
    expect(test.writer.calls).to.have.length(0);
  });

  it("payload fields the mapping does not know are ignored", async () => {
    const test = createTestSync();
    const outcomes = await test.sync(
      loadEvent("customer.updated", { object: { brand_new_field: { nested: true } } }),
    );
    expect(outcomes).to.deep.equal([{ status: "applied" }]);
    expect(test.writer.calls[0]?.records[0]).to.not.have.property("brand_new_field");
  });
});

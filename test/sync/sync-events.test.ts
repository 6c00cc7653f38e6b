import { expect } from "chai";
import { MemorySyncStore } from "../../src/data-access/store/memory-sync-store.js";
import type { SyncStore } from "../../src/domain/sync/sync-store-port.js";
import { PermanentSyncError, RetryableSyncError } from "../../src/shared/errors.js";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";

const CUSTOMER = "Stripe_Customer__c";
const SUBSCRIPTION = "Stripe_Subscription__c";
const PAYMENT = "Payment_Transaction__c";
const SUB_ID = "sub_1QxSub0001AbCdEf";
const PI_ID = "pi_3QxPi0001AbCdEfGh";

const subscriptionUpdate = (id: string, created: number, object: Record<string, unknown> = {}) =>
  loadEvent("customer.subscription.updated", { id, created, object });

describe("syncing a batch of Stripe events", () => {
  describe("parents first", () => {
    it("a payment for a customer never seen upserts the customer (id and Name) first, in the same batch", async () => {
      const test = createTestSync();
      const outcomes = await test.sync(loadEvent("payment_intent.payment_failed"));
      expect(outcomes).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal([CUSTOMER, PAYMENT]);
      expect(test.writer.calls[0]?.records).to.deep.equal([
        { Stripe_Customer_Id__c: "cus_NeverSeen00001", Name: "cus_NeverSeen00001" },
      ]);
      expect(test.writer.calls[1]?.records[0]?.Stripe_Customer__r).to.deep.equal({
        Stripe_Customer_Id__c: "cus_NeverSeen00001",
      });
    });

    it("a known customer is not upserted again, so its Name is never overwritten with the id", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.updated"));
      await test.sync(loadEvent("payment_intent.succeeded"));
      expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal([CUSTOMER, PAYMENT]);
      expect(test.writer.row(CUSTOMER, "cus_RnQk1aB2cD3eF4")?.Name).to.equal("Jenny Rosen");
    });

    it("a customer updated in the same batch as its payment is written in full, once, before the payment", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("payment_intent.succeeded"), loadEvent("customer.updated"));
      expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal([CUSTOMER, PAYMENT]);
      expect(test.writer.calls[0]?.records).to.have.length(1);
      expect(test.writer.calls[0]?.records[0]?.Name).to.equal("Jenny Rosen");
    });

    it("a customer stub the org refuses for good keeps its child for a retry: a child never sinks for its parent", async () => {
      const test = createTestSync();
      test.writer.rejectRecord("cus_NeverSeen00001", {
        statusCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        message: "blocked",
        fields: [],
        isRetryable: false,
      });
      const [outcome] = await test.sync(loadEvent("payment_intent.payment_failed"));
      expect(outcome).to.deep.equal({ status: "retry", reason: "parent_not_written", scope: "record" });
      expect(test.writer.row(PAYMENT, "pi_3QxPiKwd01AbCdEf")).to.equal(undefined);
    });

    it("a new customer refused for its own data is dead-lettered; its payment lands under a stub parent", async () => {
      const test = createTestSync();
      test.writer.rejectRecord("cus_NeverSeen00001", {
        statusCode: "INVALID_EMAIL_ADDRESS",
        message: "Email: invalid email address: jane@@example",
        fields: ["Email__c"],
        isRetryable: false,
      });
      const customer = loadEvent("customer.updated", {
        id: "evt_bad_customer",
        object: { id: "cus_NeverSeen00001", name: "Jane Roe", email: "jane@@example" },
      });
      const outcomes = await test.sync(customer, loadEvent("payment_intent.payment_failed"));
      expect(outcomes[0]).to.include({ status: "dead-letter", reason: "INVALID_EMAIL_ADDRESS" });
      expect(outcomes[1]).to.deep.equal({ status: "applied" });
      expect(test.writer.row(CUSTOMER, "cus_NeverSeen00001")?.Name).to.equal("cus_NeverSeen00001");
      expect(test.writer.row(PAYMENT, "pi_3QxPiKwd01AbCdEf")?.Status__c).to.equal("Failed");
    });

    it("dead-letter details keep the code and fields but not the personal data Salesforce quoted", async () => {
      const test = createTestSync();
      test.writer.rejectRecord("cus_RnQk1aB2cD3eF4", {
        statusCode: "INVALID_EMAIL_ADDRESS",
        message: "Email: invalid email address: jenny.rosen@example.com (Jenny Rosen)",
        fields: ["Email__c"],
        isRetryable: false,
      });
      const [outcome] = await test.sync(loadEvent("customer.updated"));
      expect(outcome).to.deep.equal({
        status: "dead-letter",
        reason: "INVALID_EMAIL_ADDRESS",
        detail:
          "INVALID_EMAIL_ADDRESS: Email: invalid email address: [redacted] ([redacted]) (fields: Email__c)",
      });
    });

    it("a customer stub that fails for now retries its children", async () => {
      const test = createTestSync();
      test.writer.rejectRecord("cus_NeverSeen00001", {
        statusCode: "UNABLE_TO_LOCK_ROW",
        message: "unable to obtain exclusive access to this record",
        fields: [],
        isRetryable: true,
      });
      expect(await test.sync(loadEvent("payment_intent.payment_failed"))).to.deep.equal([
        { status: "retry", reason: "parent_UNABLE_TO_LOCK_ROW", scope: "record" },
      ]);
    });
  });

  describe("once per event", () => {
    it("a second delivery of an applied event is a duplicate and costs no Salesforce call", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.updated"));
      const callsBefore = test.writer.calls.length;
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([{ status: "duplicate" }]);
      expect(test.writer.calls.length).to.equal(callsBefore);
    });

    it("the same event twice in one batch is written once; the second is a duplicate", async () => {
      const test = createTestSync();
      const outcomes = await test.sync(loadEvent("customer.updated"), loadEvent("customer.updated"));
      expect(outcomes).to.deep.equal([{ status: "applied" }, { status: "duplicate" }]);
      expect(test.writer.calls).to.have.length(1);
      expect(test.writer.calls[0]?.records).to.have.length(1);
    });

    it("an event is marked applied only once Salesforce accepted it: after a retry it is written, not a duplicate", async () => {
      const test = createTestSync();
      test.writer.failNextCall(
        new RetryableSyncError("http_503", "Service Unavailable", { retryAfterSeconds: 30 }),
      );
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([
        { status: "retry", reason: "http_503", scope: "record", retryAfterSeconds: 30 },
      ]);
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([{ status: "applied" }]);
      expect(test.writer.row(CUSTOMER, "cus_RnQk1aB2cD3eF4")?.Name).to.equal("Jenny Rosen");
    });
  });

  describe("newest wins", () => {
    it("an older update after a newer one is stale and changes nothing", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_new", 2000, { status: "past_due" }));
      const callsBefore = test.writer.calls.length;
      expect(await test.sync(subscriptionUpdate("evt_old", 1000, { status: "active" }))).to.deep.equal([
        { status: "stale" },
      ]);
      expect(test.writer.calls.length).to.equal(callsBefore);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "past_due",
        Last_Stripe_Event_Id__c: "evt_new",
      });
    });

    it("a stale event is remembered: its redelivery is a duplicate", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_new", 2000));
      await test.sync(subscriptionUpdate("evt_old", 1000));
      expect(await test.sync(subscriptionUpdate("evt_old", 1000))).to.deep.equal([{ status: "duplicate" }]);
    });

    it("without a Stripe key, events of the same second apply in delivery order", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_a", 1500, { status: "past_due" }));
      expect(await test.sync(subscriptionUpdate("evt_b", 1500, { status: "active" }))).to.deep.equal([
        { status: "applied" },
      ]);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "active",
        Last_Stripe_Event_Id__c: "evt_b",
      });
    });

    it("several events for one record in one batch write one record, the newest; the older are stale", async () => {
      const test = createTestSync();
      const outcomes = await test.sync(
        subscriptionUpdate("evt_2", 1002, { status: "past_due" }),
        subscriptionUpdate("evt_3", 1003, { status: "unpaid" }),
        subscriptionUpdate("evt_1", 1001, { status: "active" }),
        subscriptionUpdate("evt_3b", 1003, { status: "active" }),
      );
      expect(outcomes).to.deep.equal([
        { status: "stale" },
        { status: "stale" },
        { status: "stale" },
        { status: "applied" },
      ]);
      const subscriptionCalls = test.writer.calls.filter((c) => c.objectName === SUBSCRIPTION);
      expect(subscriptionCalls).to.have.length(1);
      expect(subscriptionCalls[0]?.records).to.have.length(1);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "active",
        Last_Stripe_Event_Id__c: "evt_3b",
      });
    });

    it("a deleted subscription stays canceled against a later update of the same second", async () => {
      const test = createTestSync();
      const deleted = loadEvent("customer.subscription.deleted", { created: 1500 });
      await test.sync(deleted);
      expect(
        await test.sync(subscriptionUpdate("evt_same_second", 1500, { status: "active" })),
      ).to.deep.equal([{ status: "stale" }]);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)?.Status__c).to.equal("canceled");
    });

    it("a deleted subscription stays canceled against a stale update delivered after it", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.subscription.deleted"));
      expect(await test.sync(subscriptionUpdate("evt_late", 1000, { status: "active" }))).to.deep.equal([
        { status: "stale" },
      ]);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)?.Status__c).to.equal("canceled");
    });

    it("a delete wins over an update of the same second in one batch, whatever their order", async () => {
      for (const deleteFirst of [true, false]) {
        const test = createTestSync();
        const deleted = loadEvent("customer.subscription.deleted", { created: 1500 });
        const update = subscriptionUpdate("evt_upd", 1500, { status: "active" });
        await test.sync(...(deleteFirst ? [deleted, update] : [update, deleted]));
        expect(test.writer.row(SUBSCRIPTION, SUB_ID)?.Status__c, `delete first: ${deleteFirst}`).to.equal(
          "canceled",
        );
      }
    });

    it("a failed payment after a succeeded one stays Succeeded, even when the failure is newer", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("payment_intent.succeeded", { created: 1000 }));
      const failed = loadEvent("payment_intent.payment_failed", {
        created: 2000,
        object: { id: PI_ID, customer: "cus_RnQk1aB2cD3eF4" },
      });
      expect(await test.sync(failed)).to.deep.equal([{ status: "stale" }]);
      expect(test.writer.row(PAYMENT, PI_ID)?.Status__c).to.equal("Succeeded");
    });

    it("a succeeded payment after a failed one becomes Succeeded, even when the success is older", async () => {
      const test = createTestSync();
      const failed = loadEvent("payment_intent.payment_failed", {
        created: 2000,
        object: { id: PI_ID, customer: "cus_RnQk1aB2cD3eF4" },
      });
      await test.sync(failed);
      expect(await test.sync(loadEvent("payment_intent.succeeded", { created: 1000 }))).to.deep.equal([
        { status: "applied" },
      ]);
      expect(test.writer.row(PAYMENT, PI_ID)).to.include({ Status__c: "Succeeded", Failure_Code__c: null });
    });

    it("the last-event fields never move backwards", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_newer_update", 3000, { status: "past_due" }));
      await test.sync(subscriptionUpdate("evt_older_update", 2000, { status: "active" }));
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "past_due",
        Last_Stripe_Event_Id__c: "evt_newer_update",
      });
    });

    it("a checkout moves no last-event field, so a subscription event older than it still applies", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_first_update", 1000, { status: "incomplete" }));
      await test.sync(loadEvent("checkout.session.completed", { created: 3000 }));
      await test.sync(subscriptionUpdate("evt_second_update", 2000, { status: "active" }));
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "active",
        Sync_Status__c: "Completed",
        Last_Stripe_Event_Id__c: "evt_second_update",
      });
    });
  });

  describe("checkout completion", () => {
    it("Completed and the session id stay after a later subscription update", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.subscription.created"));
      await test.sync(loadEvent("checkout.session.completed"));
      await test.sync(loadEvent("customer.subscription.updated"));
      const updateCall = test.writer.calls.at(-1);
      expect(updateCall?.records[0]).to.not.have.property("Sync_Status__c");
      expect(updateCall?.records[0]).to.not.have.property("Checkout_Session_Id__c");
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Status__c: "active",
        Sync_Status__c: "Completed",
        Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
      });
    });

    it("a checkout before any subscription event creates the record Completed, and the subscription event never sends Pending", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.updated"));
      await test.sync(loadEvent("checkout.session.completed"));
      expect(await test.sync(loadEvent("customer.subscription.created"))).to.deep.equal([
        { status: "applied" },
      ]);
      expect(test.writer.calls.at(-1)?.records[0]).to.not.have.property("Sync_Status__c");
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Sync_Status__c: "Completed",
        Status__c: "incomplete",
      });
    });

    it("a checkout is never stale: it lands even after a newer subscription update", async () => {
      const test = createTestSync();
      await test.sync(subscriptionUpdate("evt_newer", 9000));
      expect(await test.sync(loadEvent("checkout.session.completed", { created: 100 }))).to.deep.equal([
        { status: "applied" },
      ]);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.include({
        Sync_Status__c: "Completed",
        Last_Stripe_Event_Id__c: "evt_newer",
      });
    });

    it("a checkout and subscription events in one batch merge into one record", async () => {
      const test = createTestSync();
      const outcomes = await test.sync(
        loadEvent("customer.subscription.created"),
        loadEvent("checkout.session.completed"),
        loadEvent("customer.subscription.updated"),
      );
      expect(outcomes).to.deep.equal([{ status: "stale" }, { status: "applied" }, { status: "applied" }]);
      const subscriptionCalls = test.writer.calls.filter((c) => c.objectName === SUBSCRIPTION);
      expect(subscriptionCalls).to.have.length(1);
      expect(subscriptionCalls[0]?.records[0]).to.include({
        Status__c: "active",
        Sync_Status__c: "Completed",
        Checkout_Session_Id__c: "cs_test_a1QxCheckout0001AbCdEfGhIjKl",
        Last_Stripe_Event_Id__c: "evt_1QxSubUpdated0001",
      });
    });
  });

  describe("Salesforce failures", () => {
    it("a record rejected for good is dead-lettered with code and message, and the rest of the batch is applied", async () => {
      const test = createTestSync();
      test.writer.rejectRecord(PI_ID, {
        statusCode: "STRING_TOO_LONG",
        message: "Description: data value too large",
        fields: ["Description__c"],
        isRetryable: false,
      });
      const outcomes = await test.sync(
        loadEvent("customer.updated"),
        loadEvent("payment_intent.succeeded"),
        subscriptionUpdate("evt_s", 1000),
      );
      expect(outcomes).to.deep.equal([
        { status: "applied" },
        {
          status: "dead-letter",
          reason: "STRING_TOO_LONG",
          detail: "STRING_TOO_LONG: Description: data value too large (fields: Description__c)",
        },
        { status: "applied" },
      ]);
      expect(test.writer.row(SUBSCRIPTION, SUB_ID)).to.be.an("object");
    });

    it("a retryable record error is retried", async () => {
      const test = createTestSync();
      test.writer.rejectRecord("cus_RnQk1aB2cD3eF4", {
        statusCode: "UNABLE_TO_LOCK_ROW",
        message: "unable to obtain exclusive access to this record",
        fields: [],
        isRetryable: true,
      });
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([
        { status: "retry", reason: "UNABLE_TO_LOCK_ROW", scope: "record" },
      ]);
    });

    it("a whole call refused for the org's daily limit retries every event in it, scoped for a pause", async () => {
      const test = createTestSync();
      await test.sync(loadEvent("customer.created"));
      test.writer.failNextCall(
        new RetryableSyncError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded", {
          scope: "api_limit",
        }),
      );
      const outcomes = await test.sync(
        subscriptionUpdate("evt_a", 1000),
        loadEvent("checkout.session.completed"),
      );
      expect(outcomes).to.deep.equal([
        {
          status: "retry",
          reason: "REQUEST_LIMIT_EXCEEDED",
          scope: "api_limit",
          detail: "TotalRequests Limit exceeded",
        },
        {
          status: "retry",
          reason: "REQUEST_LIMIT_EXCEEDED",
          scope: "api_limit",
          detail: "TotalRequests Limit exceeded",
        },
      ]);
    });

    it("a whole call that fails for good dead-letters its events", async () => {
      const test = createTestSync();
      test.writer.failNextCall(
        new PermanentSyncError("INVALID_TYPE", "sObject type 'Stripe_Customer__c' is not supported"),
      );
      expect(await test.sync(loadEvent("customer.updated"))).to.deep.equal([
        {
          status: "dead-letter",
          reason: "INVALID_TYPE",
          detail: "INVALID_TYPE: sObject type 'Stripe_Customer__c' is not supported",
        },
      ]);
    });

    it("an unavailable store retries the whole batch and writes nothing", async () => {
      const broken: SyncStore = {
        findAppliedEvents: async () => {
          throw new RetryableSyncError("store_unavailable", "connection refused");
        },
        getRecordStates: async () => new Map(),
        commit: async () => undefined,
        openLeases: () => new MemorySyncStore().openLeases({ ttlMs: 1000, waitMs: 0 }),
      };
      const test = createTestSync({ store: broken });
      expect(await test.sync(loadEvent("customer.updated"), loadEvent("invoice.paid"))).to.deep.equal([
        { status: "retry", reason: "store_unavailable", scope: "record" },
        { status: "retry", reason: "store_unavailable", scope: "record" },
      ]);
      expect(test.writer.calls).to.have.length(0);
    });
  });

  describe("batching", () => {
    it("100 payments for 100 customers never seen cost 2 Salesforce calls", async () => {
      const test = createTestSync();
      const events = Array.from({ length: 100 }, (_, i) =>
        loadEvent("payment_intent.succeeded", {
          id: `evt_${i}`,
          object: { id: `pi_${i}`, customer: `cus_${i}` },
        }),
      );
      const outcomes = await test.sync(...events);
      expect(outcomes.every((o) => o.status === "applied")).to.equal(true);
      expect(test.writer.calls.map((c) => [c.objectName, c.records.length])).to.deep.equal([
        [CUSTOMER, 100],
        [PAYMENT, 100],
      ]);
    });

    it("100 mixed events cost at most one call per object", async () => {
      const test = createTestSync();
      const events = Array.from({ length: 100 }, (_, i) => {
        if (i % 3 === 0) return loadEvent("customer.updated", { id: `evt_${i}`, object: { id: `cus_${i}` } });
        if (i % 3 === 1)
          return subscriptionUpdate(`evt_${i}`, 1000 + i, { id: `sub_${i}`, customer: `cus_${i - 1}` });
        return loadEvent("payment_intent.succeeded", {
          id: `evt_${i}`,
          object: { id: `pi_${i}`, customer: `cus_x${i}` },
        });
      });
      const outcomes = await test.sync(...events);
      expect(outcomes.every((o) => o.status === "applied")).to.equal(true);
      expect(test.writer.calls.map((c) => c.objectName)).to.have.members([CUSTOMER, SUBSCRIPTION, PAYMENT]);
      expect(test.writer.calls).to.have.length(3);
      expect(test.writer.calls[0]?.objectName).to.equal(CUSTOMER);
    });
  });

  describe("metrics", () => {
    it("counts outcomes by event type and observes the lag of applied events", async () => {
      const test = createTestSync();
      const event = loadEvent("customer.updated");
      test.clock.ms = (event.created + 7) * 1000;
      await test.sync(event, loadEvent("customer.updated"), loadEvent("invoice.paid"));
      const counts = (await test.metrics.syncEvents.get()).values.map((v) => [
        v.labels.event_type,
        v.labels.outcome,
        v.value,
      ]);
      expect(counts).to.have.deep.members([
        ["customer.updated", "applied", 1],
        ["customer.updated", "duplicate", 1],
        ["invoice.paid", "ignored", 1],
      ]);
      const lag = (await test.metrics.eventLag.get()).values.find(
        (v) => v.metricName === "sync_event_lag_seconds_sum",
      );
      // The test clock runs at wall speed from its start: a few ms may have passed.
      expect(lag?.value).to.be.closeTo(7, 0.5);
    });
  });
});

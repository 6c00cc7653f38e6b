import { expect } from "chai";
import { createStripeObjectReader } from "../../src/data-access/stripe/stripe-api-reader.js";
import { eventOfThin } from "../../src/domain/ingest/thin-event.js";
import type { SyncItem } from "../../src/domain/sync/sync-item.js";
import { metricValue } from "../salesforce/salesforce-test-kit.js";
import { loadThinEvent } from "../support/eventbridge.js";
import { startStripeApiStandIn, type StripeApiStandIn } from "../support/stripe-api-stand-in.js";
import { createTestSync, loadEvent, log, type TestSync } from "./support/sync-fixtures.js";

const CUSTOMER = "cus_RnQk1aB2cD3eF4";

/** A thin event as the worker hands it over: made into an event whose object is still to be read. */
function thinItem(patch: Record<string, unknown> = {}, name = "v1.customer.updated"): SyncItem {
  const read = eventOfThin(loadThinEvent(name, patch));
  if ("problem" in read) throw new Error(read.problem);
  return { event: read.event, isRedelivery: false, needsObject: true, isThin: true, log };
}

const syncItems = (test: TestSync, ...items: SyncItem[]) => test.syncer.syncEvents(items, log);

describe("thin events (EventBridge, v2.core.event)", () => {
  let standIn: StripeApiStandIn;
  const reader = () =>
    createStripeObjectReader({ apiKey: "sk_test_thin1", apiBase: standIn.url, maxNetworkRetries: 0 });
  before(async () => {
    standIn = await startStripeApiStandIn({ rateLimit: false });
  });
  after(() => standIn.stop());
  beforeEach(() => standIn.reset());

  it("of an object we sync are fetched from Stripe and written as a snapshot event would be", async () => {
    standIn.seed(loadEvent("customer.updated").data.object);
    const test = createTestSync({ stripe: reader() });
    expect(await syncItems(test, thinItem())).to.deep.equal([{ status: "applied" }]);
    expect(test.writer.row("Stripe_Customer__c", CUSTOMER)).to.include({
      Name: "Jenny Rosen",
      Last_Stripe_Event_At__c: "2025-01-01T01:00:00.000Z",
    });
  });

  it("of a connected account are fetched on its behalf and carry its account", async () => {
    standIn.seed(loadEvent("customer.updated").data.object, { account: "acct_1ThinConnected" });
    const test = createTestSync({ stripe: reader() });
    expect(await syncItems(test, thinItem({ context: "acct_1ThinConnected" }))).to.deep.equal([
      { status: "applied" },
    ]);
    expect(test.writer.row("Stripe_Customer__c", CUSTOMER)?.Stripe_Account_Id__c).to.equal(
      "acct_1ThinConnected",
    );
    expect(new Set(standIn.requests().map((r) => r.stripeAccount))).to.deep.equal(
      new Set(["acct_1ThinConnected"]),
    );
  });

  it("without a Stripe key are acknowledged as unsupported, never dead-lettered, and counted", async () => {
    const test = createTestSync();
    expect(await syncItems(test, thinItem())).to.deep.equal([
      { status: "ignored", reason: "thin_event_unsupported" },
    ]);
    expect(test.writer.calls).to.have.length(0);
    expect(await metricValue(test.metrics.ignoredEvents, { reason: "thin_event_unsupported" })).to.equal(1);
  });

  it("of a type we do not sync are acknowledged as unsupported without a Stripe read", async () => {
    const test = createTestSync({ stripe: reader() });
    const meter = thinItem({
      type: "v1.billing.meter.error_report_triggered",
      related_object: { id: "mtr_1Qx", type: "billing.meter", url: "/v1/billing/meters/mtr_1Qx" },
    });
    expect(await syncItems(test, meter)).to.deep.equal([
      { status: "ignored", reason: "thin_event_unsupported" },
    ]);
    expect(standIn.requests()).to.have.length(0);
  });

  it("a thin customer.deleted whose customer Stripe keeps only as deleted marks the record deleted", async () => {
    standIn.seed(loadEvent("customer.updated").data.object);
    standIn.deleteCustomer(CUSTOMER);
    const test = createTestSync({ stripe: reader() });
    const deleted = thinItem({ type: "v1.customer.deleted" });
    expect(await syncItems(test, deleted)).to.deep.equal([{ status: "applied" }]);
    expect(test.writer.row("Stripe_Customer__c", CUSTOMER)?.Deleted__c).to.equal(true);
  });
});

describe("test and live mode (STRIPE_EVENT_MODE)", () => {
  const liveEvent = (id: string) => ({ ...loadEvent("customer.updated", { id }), livemode: true });

  it("restricted to live, a test event is acknowledged as ignored (other_mode), counted and not written", async () => {
    const test = createTestSync({ acceptedMode: "live" });
    const outcomes = await test.sync(loadEvent("customer.updated"), liveEvent("evt_live_1"));
    expect(outcomes).to.deep.equal([{ status: "ignored", reason: "other_mode" }, { status: "applied" }]);
    expect(test.writer.row("Stripe_Customer__c", CUSTOMER)?.Last_Stripe_Event_Id__c).to.equal("evt_live_1");
    expect(await metricValue(test.metrics.ignoredEvents, { reason: "other_mode" })).to.equal(1);
  });

  it("restricted to test, a live event is ignored and the test one written", async () => {
    const test = createTestSync({ acceptedMode: "test" });
    const outcomes = await test.sync(liveEvent("evt_live_2"), loadEvent("customer.updated"));
    expect(outcomes).to.deep.equal([{ status: "ignored", reason: "other_mode" }, { status: "applied" }]);
  });

  it("by default both modes are written", async () => {
    const test = createTestSync();
    const other = loadEvent("customer.updated", { id: "evt_test_3", object: { id: "cus_Other" } });
    expect(await test.sync(liveEvent("evt_live_3"), other)).to.deep.equal([
      { status: "applied" },
      { status: "applied" },
    ]);
  });
});

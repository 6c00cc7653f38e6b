import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { SALESFORCE_OBJECTS } from "../../src/salesforce-schema/objects.js";
import { metricValue } from "../salesforce/salesforce-test-kit.js";
import { eventBridgeBody, loadThinEvent, TRUSTED_EVENTBRIDGE_ENV } from "../support/eventbridge.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { buildEventStream, recordsOffExpectation, shuffled } from "./support/event-stream.js";
import { pipelineSuite, type Pipeline } from "./support/pipeline.js";

/** Fields the org sets itself: they differ between two orgs holding the same data. */
const SYSTEM_FIELDS = new Set(["Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"]);

/**
 * What an org holds, comparable across orgs: every record of the contract's objects by External ID,
 * without system fields, a lookup named by its parent's External ID instead of the org's record Id.
 */
function orgContents(emulator: SalesforceEmulator): Record<string, Record<string, Record<string, unknown>>> {
  const customerIds = new Map(
    emulator.records("Stripe_Customer__c").map((r) => [r.Id, String(r.Stripe_Customer_Id__c)]),
  );
  return Object.fromEntries(
    SALESFORCE_OBJECTS.map((object) => {
      const records = emulator.records(object.name).map((record) => {
        const fields = Object.entries(record).filter(([field]) => !SYSTEM_FIELDS.has(field));
        const named = fields.map(([field, value]) =>
          field === "Stripe_Customer__c" && typeof value === "string"
            ? [field, customerIds.get(value)]
            : [field, value],
        );
        return [String(record[object.externalIdField]), Object.fromEntries(named)];
      });
      return [object.name, Object.fromEntries(records)];
    }),
  );
}

describe("end to end: events from Amazon EventBridge on the same queue", function () {
  this.timeout(120_000);
  const suite = pipelineSuite();
  let pipeline: Pipeline | undefined;

  const stream = buildEventStream("eb", 4);

  /** Delivers `events` one way into a fresh pipeline and answers what its org holds once all are handled. */
  async function deliverAll(how: "webhook" | "eventbridge", events: readonly StripeEvent[]) {
    pipeline = await suite.start({ env: TRUSTED_EVENTBRIDGE_ENV });
    for (const event of events) {
      if (how === "webhook") await pipeline.sendEvent(event);
      else await pipeline.enqueueBody(eventBridgeBody(event));
    }
    await pipeline.waitUntilQueueEmpty(60_000);
    expect(await pipeline.dlqMessages(), `${how}: nothing dead-lettered`).to.have.length(0);
    const contents = orgContents(pipeline.emulator);
    const offExpectation = recordsOffExpectation(stream, (object, id) => contents[object]?.[id]);
    await pipeline.stop();
    pipeline = undefined;
    return { contents, offExpectation };
  }
  it("the same events sent through the webhook and as EventBridge envelopes produce identical org records", async () => {
    const order = shuffled(stream.events, 23);
    const viaWebhook = await deliverAll("webhook", order);
    const viaEventBridge = await deliverAll("eventbridge", order);
    expect(viaWebhook.offExpectation).to.deep.equal([]);
    expect(viaEventBridge.offExpectation).to.deep.equal([]);
    expect(Object.keys(viaEventBridge.contents.Stripe_Customer__c ?? {})).to.have.length(4);
    expect(viaEventBridge.contents).to.deep.equal(viaWebhook.contents);
  });

  it("a thin event that is not synced is acknowledged once, counted, and never retried nor dead-lettered", async () => {
    pipeline = await suite.start({ env: TRUSTED_EVENTBRIDGE_ENV });
    const meter = loadThinEvent("v1.customer.updated", {
      id: "evt_test_thin_meter",
      type: "v1.billing.meter.error_report_triggered",
      related_object: { id: "mtr_1Qx", type: "billing.meter", url: "/v1/billing/meters/mtr_1Qx" },
    });
    // A customer's thin event, but this worker has no Stripe key to fetch the customer with.
    const customer = loadThinEvent("v1.customer.updated", { id: "evt_test_thin_cus" });
    await pipeline.enqueueBody(eventBridgeBody(meter));
    await pipeline.enqueueBody(eventBridgeBody(customer));
    await pipeline.waitUntilQueueEmpty();

    const { metrics } = pipeline.workers[0]!;
    expect(await metricValue(metrics.ignoredEvents, { reason: "thin_event_unsupported" })).to.equal(2);
    expect(
      await metricValue(metrics.messagesReceived, { origin: "eventbridge" }),
      "each received once",
    ).to.equal(2);
    expect(await pipeline.dlqMessages()).to.have.length(0);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("envelopes from a source or AWS account not configured are dead-lettered as untrusted_source, with why", async () => {
    pipeline = await suite.start({ env: TRUSTED_EVENTBRIDGE_ENV });
    const event = loadEvent("customer.updated");
    await pipeline.enqueueBody(eventBridgeBody(event, { source: "aws.partner/stripe.com/ed_not_ours" }));
    await pipeline.enqueueBody(eventBridgeBody(event, { account: "999999999999" }));
    await pipeline.enqueueBody(eventBridgeBody(event, { source: "com.example.orders" }));
    await pipeline.waitUntilQueueEmpty();

    const letters = await pipeline.dlqMessages();
    const details = letters.map((m) => m.MessageAttributes?.dlq_detail?.StringValue ?? "");
    expect(letters.map((m) => m.MessageAttributes?.dlq_reason?.StringValue)).to.deep.equal(
      Array(3).fill("untrusted_source"),
    );
    expect(details.some((d) => d.includes("ed_not_ours") && d.includes("EVENTBRIDGE_SOURCES"))).to.equal(
      true,
    );
    expect(
      details.some((d) => d.includes("999999999999") && d.includes("EVENTBRIDGE_AWS_ACCOUNTS")),
    ).to.equal(true);
    expect(details.some((d) => d.includes("com.example.orders"))).to.equal(true);
    expect(
      letters.every((m) => m.Body?.includes('"detail-type"')),
      "the envelope is kept as it came",
    ).to.equal(true);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("restricted to live events, test events from both paths are acknowledged, counted and not written", async () => {
    pipeline = await suite.start({ env: { ...TRUSTED_EVENTBRIDGE_ENV, STRIPE_EVENT_MODE: "live" } });
    const live = {
      ...loadEvent("customer.updated", { id: "evt_live_1", object: { id: "cus_Live1" } }),
      livemode: true,
    };
    await pipeline.sendEvent(loadEvent("customer.updated", { id: "evt_test_web" }));
    await pipeline.enqueueBody(eventBridgeBody(loadEvent("payment_intent.succeeded", { id: "evt_test_eb" })));
    await pipeline.enqueueBody(eventBridgeBody(live));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_Live1");
    await pipeline.waitUntilQueueEmpty();

    expect(await metricValue(pipeline.workers[0]!.metrics.ignoredEvents, { reason: "other_mode" })).to.equal(
      2,
    );
    expect(pipeline.emulator.records("Stripe_Customer__c").map((r) => r.Stripe_Customer_Id__c)).to.deep.equal(
      ["cus_Live1"],
    );
    expect(pipeline.emulator.records("Payment_Transaction__c")).to.have.length(0);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });
});

import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { waitFor } from "../support/child-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { pipelineSuite, type Pipeline, type TestWorker } from "./support/pipeline.js";

/** A customer.updated event for customer `cus_<suffix>`. */
function customerEvent(suffix: string, name = `Customer ${suffix}`): StripeEvent {
  return loadEvent("customer.updated", {
    id: `evt_${suffix}`,
    object: { id: `cus_${suffix}`, name, email: `${suffix}@example.com` },
  });
}

/** Salesforce calls a worker's client answered with `status`, by its own metric. */
async function callsAnswered(worker: TestWorker, status: string): Promise<number> {
  const metric = await worker.metrics.salesforceCalls.get();
  return metric.values.filter((v) => v.labels.status === status).reduce((sum, v) => sum + v.value, 0);
}

describe("end to end: Salesforce in trouble", function () {
  this.timeout(120_000);
  const suite = pipelineSuite();
  let pipeline: Pipeline | undefined;

  it("sessions expiring mid-run: events keep landing after exactly one new token", async () => {
    pipeline = await suite.start();
    await pipeline.sendEvent(customerEvent("e2e_before_expiry"));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_e2e_before_expiry");
    const tokensBefore = pipeline.emulator.stats().tokenRequests.total;
    expect(tokensBefore).to.equal(1);

    pipeline.emulator.faults.add({ type: "expire_sessions" });
    const after = ["e2e_after_expiry_1", "e2e_after_expiry_2", "e2e_after_expiry_3"];
    await Promise.all(after.map((suffix) => pipeline!.sendEvent(customerEvent(suffix))));

    for (const suffix of after) await pipeline.waitForRecord("Stripe_Customer__c", `cus_${suffix}`);
    await pipeline.waitUntilQueueEmpty();
    expect(pipeline.emulator.stats().tokenRequests.total).to.equal(tokensBefore + 1);
    expect(
      await callsAnswered(pipeline.workers[0]!, "401"),
      "calls refused with the old session",
    ).to.be.greaterThan(0);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("Salesforce answering 503 for a while: messages are retried, all land, none is dead-lettered", async () => {
    pipeline = await suite.start();
    pipeline.emulator.faults.add({ type: "http_error", status: 503, count: 3 });
    const suffixes = ["e2e_503_1", "e2e_503_2", "e2e_503_3"];
    for (const suffix of suffixes) await pipeline.sendEvent(customerEvent(suffix));

    for (const suffix of suffixes)
      await pipeline.waitForRecord("Stripe_Customer__c", `cus_${suffix}`, () => true, 60_000);
    await pipeline.waitUntilQueueEmpty(30_000);
    expect(pipeline.emulator.faults.list(), "every 503 was served").to.deep.equal([]);
    expect(await callsAnswered(pipeline.workers[0]!, "503")).to.equal(3);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("a record rejected for good goes to the dead-letter queue with its reason; the rest of the backlog lands", async () => {
    pipeline = await suite.start({ workers: 0 });
    pipeline.emulator.faults.add({
      type: "record_error",
      externalId: "cus_e2e_rejected",
      statusCode: "STRING_TOO_LONG",
      message: "Description: data value too large",
    });
    const good = ["e2e_good_1", "e2e_good_2", "e2e_good_3", "e2e_good_4", "e2e_good_5"];
    for (const suffix of [...good.slice(0, 2), "e2e_rejected", ...good.slice(2)])
      await pipeline.enqueue(customerEvent(suffix));

    await pipeline.startWorkers(1);

    for (const suffix of good) await pipeline.waitForRecord("Stripe_Customer__c", `cus_${suffix}`);
    await pipeline.waitUntilQueueEmpty();
    expect(pipeline.record("Stripe_Customer__c", "cus_e2e_rejected")).to.equal(undefined);
    const parked = await pipeline.dlqMessages();
    expect(parked).to.have.length(1);
    const message = parked[0]!;
    expect((JSON.parse(message.Body ?? "{}") as StripeEvent).id).to.equal("evt_e2e_rejected");
    expect(message.MessageAttributes?.dlq_reason?.StringValue).to.equal("STRING_TOO_LONG");
    expect(message.MessageAttributes?.dlq_detail?.StringValue).to.include("STRING_TOO_LONG");
    expect(message.MessageAttributes?.dlq_detail?.StringValue).to.include("data value too large");
    expect(message.MessageAttributes?.event_id?.StringValue, "original attributes kept").to.equal(
      "evt_e2e_rejected",
    );
  });

  it("three workers starting at once on one Redis make exactly one token request", async () => {
    pipeline = await suite.start({ workers: 0, worker: { concurrency: 1, batchSize: 5 } });
    const suffixes = Array.from({ length: 60 }, (_, i) => `e2e_three_${i}`);
    await Promise.all(suffixes.map((suffix) => pipeline!.enqueue(customerEvent(suffix))));

    const workers = await pipeline.startWorkers(3);

    await waitFor(
      async () => pipeline!.emulator.records("Stripe_Customer__c").length === suffixes.length,
      30_000,
      "every customer to land",
    );
    await pipeline.waitUntilQueueEmpty();
    const calls = await Promise.all(workers.map((w) => w.salesforceCalls()));
    expect(
      calls.every((n) => n > 0),
      `each worker wrote to Salesforce (calls: ${calls.join(", ")})`,
    ).to.equal(true);
    expect(pipeline.emulator.stats().tokenRequests.total).to.equal(1);
  });
});

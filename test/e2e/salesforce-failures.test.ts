import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { waitFor } from "../support/child-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { pipelineSuite, type Pipeline } from "./support/pipeline.js";

/** A customer.updated event for customer `cus_<suffix>`. */
function customerEvent(suffix: string, extra: Record<string, unknown> = {}): StripeEvent {
  return loadEvent("customer.updated", {
    id: `evt_${suffix}`,
    object: { id: `cus_${suffix}`, name: `Customer ${suffix}`, email: `${suffix}@example.com`, ...extra },
  });
}

/** Reports a duration in the test output (the machines are shared: timings are shown, not asserted). */
function report(what: string, startedAt: number): void {
  console.log(`      ${what}: ${Math.round(performance.now() - startedAt)} ms`);
}

describe("end to end: failures cost seconds and one record", function () {
  this.timeout(120_000);
  const suite = pipelineSuite();
  let pipeline: Pipeline | undefined;

  const state = () => pipeline!.workers[0]!.worker.state();

  it("a mapped field the org drops: the worker pauses naming the field, nothing is dead-lettered, and it resumes once the field is back", async () => {
    pipeline = await suite.start();
    await pipeline.sendEvent(customerEvent("fls_before"));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_fls_before");

    pipeline.emulator.schema.dropField("Stripe_Customer__c", "Phone__c");
    const events = Array.from({ length: 20 }, (_, i) => customerEvent(`fls_${i}`, { phone: "+15550100" }));
    for (const event of events) await pipeline.sendEvent(event);
    await waitFor(async () => state().status === "paused", 20_000, "the worker to pause");
    expect(state()).to.include({ status: "paused", reason: "org_refuses_writes" });
    // The probe describes the mapped objects: readiness names the field and what to fix.
    await waitFor(
      async () => /Stripe_Customer__c\.Phone__c does not exist/.test(state().detail ?? ""),
      20_000,
      "the probe to name the field",
    );

    const fixedAt = performance.now();
    pipeline.emulator.schema.reset();
    await pipeline.waitUntilQueueEmpty(30_000);
    report("from the field restored to the last event landed", fixedAt);
    expect(state().status).to.equal("ready");
    for (let i = 0; i < 20; i++)
      expect(pipeline.record("Stripe_Customer__c", `cus_fls_${i}`)).to.not.equal(undefined);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("one record that makes Salesforce refuse a whole request, among 200: it alone is dead-lettered, the others land", async () => {
    pipeline = await suite.start({ workers: 0 });
    const events = Array.from({ length: 200 }, (_, i) => customerEvent(`poison_${i}`));
    for (let i = 0; i < events.length; i += 20)
      await Promise.all(events.slice(i, i + 20).map((e) => pipeline!.enqueue(e)));
    pipeline.emulator.faults.add({ type: "poison_record", externalId: "cus_poison_137" });
    const [worker] = await pipeline.startWorkers(1);
    const startedAt = performance.now();
    await pipeline.waitUntilQueueEmpty(60_000);
    report("200 events, one poisoned, all settled", startedAt);
    const isolation = (await worker!.metrics.salesforceIsolationCalls.get()).values[0]?.value ?? 0;
    console.log(`      extra calls spent isolating the bad record: ${isolation}`);
    expect(isolation, "isolation is bounded").to.be.within(1, 12);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(199);
    const parked = await pipeline.dlqMessages();
    expect(parked.map((m) => m.MessageAttributes?.event_id?.StringValue)).to.deep.equal(["evt_poison_137"]);
    expect(parked[0]?.MessageAttributes?.dlq_reason?.StringValue).to.equal("JSON_PARSER_ERROR");
  });

  it("a new customer refused for its own data is dead-lettered alone; its subscription lands under a stub parent", async () => {
    pipeline = await suite.start({ workers: 0 });
    pipeline.emulator.faults.add({
      type: "record_error",
      externalId: "cus_RnQk1aB2cD3eF4",
      statusCode: "INVALID_EMAIL_ADDRESS",
      message: "Email: invalid email address: jenny rosen@example",
      count: 1,
    });
    await pipeline.enqueue(loadEvent("customer.updated", { object: { email: "jenny rosen@example" } }));
    await pipeline.enqueue(loadEvent("customer.subscription.created"));
    await pipeline.startWorkers(1);
    await pipeline.waitUntilQueueEmpty(30_000);
    expect(pipeline.record("Stripe_Subscription__c", "sub_1QxSub0001AbCdEf")).to.include({
      Status__c: "incomplete",
    });
    expect(pipeline.record("Stripe_Customer__c", "cus_RnQk1aB2cD3eF4")?.Name).to.equal("cus_RnQk1aB2cD3eF4");
    const parked = await pipeline.dlqMessages();
    expect(parked.map((m) => m.MessageAttributes?.dlq_reason?.StringValue)).to.deep.equal([
      "INVALID_EMAIL_ADDRESS",
    ]);
    const detail = parked[0]?.MessageAttributes?.dlq_detail?.StringValue ?? "";
    expect(detail, "the dead letter keeps the code and field, not the address").to.not.include(
      "jenny rosen@example",
    );
    expect(detail).to.include("Email__c");
  });

  it("a locked row lands within the worker's quick retries", async () => {
    pipeline = await suite.start();
    pipeline.emulator.faults.add({ type: "lock_row", count: 1 });
    const startedAt = performance.now();
    await pipeline.sendEvent(customerEvent("locked"));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_locked");
    report("a record locked once, from webhook to landed", startedAt);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("read-only maintenance: the worker pauses and holds the events, then writes them when writes are allowed again", async () => {
    pipeline = await suite.start();
    pipeline.emulator.faults.add({ type: "maintenance", forMs: 3_000 });
    const sentAt = performance.now();
    for (let i = 0; i < 5; i++) await pipeline.sendEvent(customerEvent(`maint_${i}`));
    await waitFor(async () => state().status === "paused", 10_000, "the worker to pause");
    await pipeline.waitUntilQueueEmpty(30_000);
    report("5 events through a 3 s maintenance window", sentAt);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(5);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });

  it("the org's daily API limit spent: the worker pauses and resumes by itself once usage falls", async () => {
    pipeline = await suite.start();
    await waitFor(async () => state().status === "ready", 15_000, "the worker to be consuming");
    pipeline.emulator.setApiUsage(100_000, 100_000);
    await pipeline.sendEvent(customerEvent("limit_1"));
    await waitFor(
      async () => state().reason === "api_limit_exhausted",
      15_000,
      "the worker to pause on the limit",
    );
    expect(await pipeline.dlqMessages()).to.have.length(0);
    pipeline.emulator.setApiUsage(50_000, 100_000);
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_limit_1", () => true, 30_000);
    expect(state().status).to.equal("ready");
  });

  it("a Salesforce call that hangs: the group deadline gives its messages back, and they land once Salesforce answers", async () => {
    // The hung write keeps its record's lease until the client's 20 s request timeout, so each new
    // receive of the event meets a busy record. The test's queue backoff (1-2 s) can spend ten
    // receives in that time, where production's (30 s, doubling) spends one or two: the queue's
    // redrive limit is raised so SQS itself never dead-letters the event while it waits.
    pipeline = await suite.start({ worker: { groupDeadlineSeconds: 2 }, maxReceiveCount: 100 });
    pipeline.emulator.faults.add({ type: "hang", operation: "collections_upsert", count: 1 });
    await pipeline.sendEvent(customerEvent("hung"));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_hung", () => true, 60_000);
    await pipeline.waitUntilQueueEmpty(30_000);
    expect(await pipeline.dlqMessages()).to.have.length(0);
  });
});

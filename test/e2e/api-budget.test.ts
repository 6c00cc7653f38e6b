import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { waitFor } from "../support/child-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { pipelineSuite, type Pipeline, type TestWorker } from "./support/pipeline.js";

function customerEvent(suffix: string): StripeEvent {
  return loadEvent("customer.updated", {
    id: `evt_budget_${suffix}`,
    object: { id: `cus_budget_${suffix}`, name: `Customer ${suffix}`, email: `${suffix}@example.com` },
  });
}

/** REST calls the worker made; OAuth token requests do not count against the org's API limit. */
async function restCalls(worker: TestWorker): Promise<number> {
  const metric = await worker.metrics.salesforceCalls.get();
  return metric.values.filter((v) => v.labels.operation !== "token").reduce((sum, v) => sum + v.value, 0);
}

async function budgetGauge(worker: TestWorker, kind: string): Promise<number | undefined> {
  const metric = await worker.metrics.salesforceApiBudget.get();
  return metric.values.find((v) => v.labels.kind === kind)?.value;
}

/**
 * SALESFORCE_DAILY_API_BUDGET through the worker's own composition root, as a deployment sets it:
 * the worker starts with it, counts every call in Redis, and holds writes back when it is spent
 * without failing or dead-lettering anything.
 */
describe("end to end: the daily Salesforce API budget", function () {
  this.timeout(120_000);
  const suite = pipelineSuite();
  let pipeline: Pipeline | undefined;

  it("starts with a budget set, writes, and counts each call it made in the shared budget", async () => {
    pipeline = await suite.start({ env: { SALESFORCE_DAILY_API_BUDGET: "2400" } });
    await pipeline.sendEvent(customerEvent("a"));
    await pipeline.waitForRecord("Stripe_Customer__c", "cus_budget_a");
    await pipeline.waitUntilQueueEmpty();
    const [worker] = pipeline.workers;
    const calls = await restCalls(worker!);
    expect(calls).to.be.greaterThan(0);
    expect(await budgetGauge(worker!, "limit")).to.equal(2400);
    expect(await budgetGauge(worker!, "used")).to.equal(calls);
    expect(await budgetGauge(worker!, "remaining")).to.equal(2400 - calls);
    // The count lives in Redis, where every replica adds to it.
    const keys = await worker!.redis.keys("sfsync:*budget:used:*");
    const counted = (await Promise.all(keys.map((k) => worker!.redis.get(k)))).reduce(
      (sum, v) => sum + Number(v ?? 0),
      0,
    );
    expect(counted).to.equal(calls);
  });

  it("holds writes back once the budget is spent: no call over it, nothing failed or dead-lettered", async () => {
    // 10 calls a day: a bucket of 5, refilled one call every 2.4 hours.
    pipeline = await suite.start({ env: { SALESFORCE_DAILY_API_BUDGET: "10" } });
    const [worker] = pipeline.workers;
    // One event at a time, each landing before the next is sent: every one needs calls of its own.
    const landed: string[] = [];
    for (const suffix of ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"]) {
      await pipeline.sendEvent(customerEvent(suffix));
      const wrote = await pipeline
        .waitForRecord("Stripe_Customer__c", `cus_budget_${suffix}`, undefined, 3000)
        .then(() => true)
        .catch(() => false);
      if (!wrote) break;
      landed.push(suffix);
    }
    expect(landed.length, "events written before the budget ran out").to.be.lessThan(8);
    await waitFor(
      async () => worker!.worker.state().reason === "throttled",
      10_000,
      "the worker says it is throttled",
    );
    expect(worker!.worker.state()).to.include({ status: "ready", reason: "throttled" });
    expect(worker!.worker.state().detail).to.contain("SALESFORCE_DAILY_API_BUDGET");
    expect(await restCalls(worker!), "REST calls made").to.be.at.most(5);
    // The held event is neither failed nor parked: it waits in the worker, then the queue.
    expect(await pipeline.dlqMessages()).to.deep.equal([]);
    const depth = await pipeline.queueDepth();
    expect(depth.visible + depth.inFlight).to.be.greaterThan(0);
  });
});

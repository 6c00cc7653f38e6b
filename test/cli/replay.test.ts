import { expect } from "chai";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "../e2e/support/pipeline.js";
import {
  generateStripeData,
  startStripeApiStandIn,
  type StripeApiStandIn,
} from "../support/stripe-api-stand-in.js";
import { queueDepth } from "../support/sqs-server.js";
import { cli, cliEnv } from "./support/cli-harness.js";

const DAY = 86400;
const now = () => Math.floor(Date.now() / 1000);
const since = () => new Date((now() - 10 * DAY) * 1000).toISOString();

describe("cli: replay from Stripe's Events API", function () {
  this.timeout(120_000);
  let infra: Infrastructure;
  let stripe: StripeApiStandIn;
  let pipeline: Pipeline;
  let env: Record<string, string>;

  before(async () => {
    [infra, stripe] = await Promise.all([startInfrastructure(), startStripeApiStandIn()]);
  });
  after(async () => {
    await Promise.all([infra.stop(), stripe.stop()]);
  });
  beforeEach(async () => {
    stripe.reset();
    pipeline = await startPipeline(infra, { workers: 0 });
    env = cliEnv(infra, pipeline, stripe);
  });
  afterEach(() => pipeline.stop());

  it("puts every handled event on the queue, oldest first by ending_before paging; the worker applies them; replayed again they write nothing", async () => {
    const data = generateStripeData({ customers: 40, startAt: now() - 5 * DAY });
    stripe.seed(data.events);
    stripe.seed({
      id: "evt_unhandled",
      object: "event",
      type: "invoice.paid",
      created: now() - DAY,
      livemode: false,
      data: { object: { id: "in_1", object: "invoice" } },
    });

    const run = await cli(["replay", "--since", since()], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.summary.enqueued).to.equal(120);
    const paging = stripe.requests().filter((r) => r.path === "/v1/events");
    expect(
      paging.some((r) => r.query.ending_before !== undefined),
      "pages oldest first",
    ).to.equal(true);
    expect(
      paging.every((r) => Array.isArray(r.query.types) && (r.query.types as string[]).length === 9),
    ).to.equal(true);

    await pipeline.startWorkers(1);
    await pipeline.waitUntilQueueEmpty(60_000);
    expect(pipeline.emulator.records("Stripe_Customer__c")).to.have.length(40);
    const writes = pipeline.emulator.history().length;

    const again = await cli(["replay", "--since", since()], env);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.summary.enqueued).to.equal(120);
    await pipeline.waitUntilQueueEmpty(60_000);
    expect(pipeline.emulator.history().length, "events already applied cost no write").to.equal(writes);
  });

  it("--only-undelivered asks for delivery_success=false, --types narrows the types, --dry-run enqueues nothing", async () => {
    const data = generateStripeData({ customers: 10, startAt: now() - 5 * DAY });
    stripe.seed(data.events.slice(0, 20));
    stripe.seed(data.events.slice(20), { deliverySuccess: false });

    const undelivered = await cli(["replay", "--since", since(), "--only-undelivered", "--dry-run"], env);
    expect(undelivered.code, undelivered.stderr).to.equal(0);
    expect(undelivered.summary.wouldEnqueue).to.equal(10);
    const types = await cli(["replay", "--since", since(), "--types", "customer.created", "--dry-run"], env);
    expect(types.summary.wouldEnqueue).to.equal(10);
    expect(types.summary.byType).to.deep.equal({ "customer.created": 10 });
    expect((await queueDepth(pipeline.sqs, pipeline.queueUrl)).visible).to.equal(0);

    const usage = await cli(["replay", "--since", since(), "--types", "invoice.paid"], env);
    expect(usage.code).to.equal(2);
    expect((await cli(["replay"], env)).code, "--since is required").to.equal(2);
  });

  it("an interrupted replay resumes from its checkpoint in Redis: every event on the queue once", async () => {
    stripe.seed(generateStripeData({ customers: 300, startAt: now() - 5 * DAY }).events);
    const from = since();
    const interrupt = new AbortController();
    const watcher = setInterval(() => {
      void queueDepth(pipeline.sqs, pipeline.queueUrl).then((depth) => {
        if (depth.visible >= 100) interrupt.abort();
      });
    }, 20);
    const first = await cli(["replay", "--since", from], env, { signal: interrupt.signal });
    clearInterval(watcher);
    expect(first.code).to.equal(1);
    expect(first.summary.interrupted).to.equal(true);
    const enqueuedFirst = first.summary.enqueued as number;
    expect(enqueuedFirst).to.be.within(1, 899);

    stripe.clearRequests();
    const second = await cli(["replay", "--since", from], env);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.of("info").some((line) => String(line.message).startsWith("resuming after"))).to.equal(
      true,
    );
    expect(
      stripe.requests().some((r) => r.query.starting_after !== undefined),
      "no second search for the oldest",
    ).to.equal(false);
    expect((await queueDepth(pipeline.sqs, pipeline.queueUrl)).visible).to.equal(900);
  });
});

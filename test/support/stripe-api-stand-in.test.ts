import { expect } from "chai";
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { generateStripeData, startStripeApiStandIn, type StripeApiStandIn } from "./stripe-api-stand-in.js";

const fixture = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`../fixtures/stripe/${name}.json`, import.meta.url), "utf8")) as {
      data: { object: Record<string, unknown> };
    }
  ).data.object;

describe("Stripe API stand-in, through the official stripe SDK", () => {
  let standIn: StripeApiStandIn;
  let nowMs = Date.parse("2025-02-01T00:00:00Z");
  const client = (key = "sk_test_standin123", retries = 0) =>
    new Stripe(key, { ...standIn.sdkOptions, maxNetworkRetries: retries });
  const stripe = () => client();
  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as Stripe.errors.StripeError;
    }
    throw new Error("expected the call to fail");
  };
  const startAt = Math.floor(nowMs / 1000) - 10 * 86_400;
  const data = generateStripeData({ customers: 25, startAt });

  before(async () => {
    standIn = await startStripeApiStandIn({ clock: { now: () => nowMs }, rateLimit: false });
  });
  after(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    standIn.seed([...data.customers, ...data.subscriptions, ...data.paymentIntents, ...data.events]);
  });

  it("pages lists newest first with limit, starting_after and ending_before, as Stripe does", async () => {
    const newestFirst = [...data.customers].reverse().map((c) => c.id);
    const first = await stripe().customers.list();
    expect(first).to.include({ object: "list", url: "/v1/customers", has_more: true });
    expect(first.data.map((c) => c.id)).to.deep.equal(newestFirst.slice(0, 10));
    const second = await stripe().customers.list({ limit: 10, starting_after: first.data[9]?.id ?? "" });
    expect(second.data.map((c) => c.id)).to.deep.equal(newestFirst.slice(10, 20));
    const last = await stripe().customers.list({ limit: 10, starting_after: second.data[9]?.id ?? "" });
    expect([last.data.length, last.has_more]).to.deep.equal([5, false]);
    const back = await stripe().customers.list({ limit: 10, ending_before: second.data[0]?.id ?? "" });
    expect(back.data.map((c) => c.id)).to.deep.equal(newestFirst.slice(0, 10));
    expect(back.has_more).to.equal(false);
    const nearer = await stripe().customers.list({ limit: 3, ending_before: second.data[0]?.id ?? "" });
    expect([nearer.data.map((c) => c.id), nearer.has_more]).to.deep.equal([newestFirst.slice(7, 10), true]);
  });

  it("auto-pages forward newest first, and backward from ending_before oldest first (a replay's order)", async () => {
    const all: string[] = [];
    for await (const customer of stripe().customers.list({ limit: 7 })) all.push(customer.id);
    expect(all).to.deep.equal([...data.customers].reverse().map((c) => c.id));
    const oldest = data.events[0]?.id ?? "";
    const replayed: string[] = [];
    for await (const event of stripe().events.list({ ending_before: oldest, limit: 7 }))
      replayed.push(event.id);
    expect(replayed).to.deep.equal(data.events.slice(1).map((e) => e.id));
  });

  it("refuses a limit outside 1-100 and an unknown cursor with Stripe's errors", async () => {
    const tooBig = await failure(stripe().customers.list({ limit: 101 }));
    expect([tooBig.statusCode, tooBig.type, tooBig.param]).to.deep.equal([
      400,
      "StripeInvalidRequestError",
      "limit",
    ]);
    const unknown = await failure(stripe().customers.list({ starting_after: "cus_nope" }));
    expect([unknown.statusCode, unknown.code, unknown.param]).to.deep.equal([
      404,
      "resource_missing",
      "starting_after",
    ]);
  });

  it("lists subscriptions without canceled ones unless status=all, and filters by created", async () => {
    const canceled = data.subscriptions.filter((s) => s.status === "canceled").length;
    expect(canceled).to.be.greaterThan(0);
    const listed = await stripe().subscriptions.list({ limit: 100 });
    expect(listed.data).to.have.length(25 - canceled);
    expect((await stripe().subscriptions.list({ limit: 100, status: "all" })).data).to.have.length(25);
    expect((await stripe().subscriptions.list({ limit: 100, status: "canceled" })).data).to.have.length(
      canceled,
    );
    const since = data.customers[20]?.created ?? 0;
    const recent = await stripe().customers.list({ limit: 100, created: { gte: since } });
    expect(recent.data.map((c) => c.id)).to.deep.equal(
      data.customers
        .slice(20)
        .reverse()
        .map((c) => c.id),
    );
  });

  it("filters events by type (with wildcards), types[] (at most 20) and delivery_success, and keeps 30 days", async () => {
    const customers = await stripe().events.list({ limit: 100, type: "customer.*" });
    expect(customers.data.every((e) => e.type.startsWith("customer."))).to.equal(true);
    expect(customers.data).to.have.length(50);
    const payments = await stripe().events.list({
      limit: 100,
      types: ["payment_intent.succeeded", "payment_intent.payment_failed"],
    });
    expect(payments.data).to.have.length(25);
    const tooMany = await failure(
      stripe().events.list({ types: Array.from({ length: 21 }, (_, i) => `t.${i}`) }),
    );
    expect([tooMany.statusCode, tooMany.param]).to.deep.equal([400, "types"]);
    standIn.seed({ ...data.events[3], id: "evt_undelivered" }, { deliverySuccess: false });
    const undelivered = await stripe().events.list({ delivery_success: false });
    expect(undelivered.data.map((e) => e.id)).to.deep.equal(["evt_undelivered"]);
    const old = { ...data.events[0], id: "evt_old", created: Math.floor(nowMs / 1000) - 31 * 86_400 };
    standIn.seed(old);
    expect((await stripe().events.list({ limit: 100 })).data.map((e) => e.id)).to.not.include("evt_old");
    expect((await failure(stripe().events.retrieve("evt_old"))).statusCode).to.equal(404);
  });

  it("retrieves a deleted customer as Stripe does and leaves it out of lists", async () => {
    const id = data.customers[0]?.id ?? "";
    standIn.deleteCustomer(id);
    expect(await stripe().customers.retrieve(id)).to.deep.include({ id, object: "customer", deleted: true });
    const listed = await stripe().customers.list({ limit: 100 });
    expect(listed.data.map((c) => c.id)).to.not.include(id);
  });

  it("serves an object only on its own account (Stripe-Account), and logs the header", async () => {
    const connected = generateStripeData({ customers: 1, account: "acct_1Connected" });
    standIn.seed(connected.customers, { account: "acct_1Connected" });
    const id = connected.customers[0]?.id ?? "";
    const found = await stripe().customers.retrieve(id, {}, { stripeAccount: "acct_1Connected" });
    expect(found.id).to.equal(id);
    const elsewhere = await failure(stripe().customers.retrieve(id));
    expect([elsewhere.statusCode, elsewhere.code, elsewhere.message]).to.deep.equal([
      404,
      "resource_missing",
      `No such customer: '${id}'`,
    ]);
    const unknown = await failure(stripe().customers.list({}, { stripeAccount: "acct_1Nobody" }));
    expect([unknown.statusCode, unknown.code]).to.deep.equal([403, "account_invalid"]);
    const log = standIn.requests();
    expect(log.map((r) => [r.path, r.stripeAccount ?? "platform", r.status])).to.deep.equal([
      [`/v1/customers/${id}`, "acct_1Connected", 200],
      [`/v1/customers/${id}`, "platform", 404],
      ["/v1/customers", "acct_1Nobody", 403],
    ]);
  });

  it("takes sk_/rk_ test and live keys, keeps the modes apart, and answers a bad key 401", async () => {
    const live = { ...fixture("customer.created"), id: "cus_live1", livemode: true };
    standIn.seed(live);
    const withLive = await client("rk_live_standin456").customers.list({ limit: 100 });
    expect(withLive.data.map((c) => c.id)).to.deep.equal(["cus_live1"]);
    expect((await stripe().customers.list({ limit: 100 })).data.map((c) => c.id)).to.not.include("cus_live1");
    const bad = await failure(client("pk_test_nope").customers.list());
    expect([bad.statusCode, bad.type]).to.deep.equal([401, "StripeAuthenticationError"]);
    expect(standIn.requests().map((r) => r.livemode)).to.deep.equal([true, false, undefined]);
  });

  it("answers 429 rate_limit with Stripe-Rate-Limited-Reason past the rate of the account and mode", async () => {
    standIn.setRateLimit({ test: 3, live: 100 });
    try {
      for (let i = 0; i < 3; i++) await stripe().customers.list({ limit: 1 });
      const limited = await failure(stripe().customers.list({ limit: 1 }));
      expect([limited.statusCode, limited.type, limited.code]).to.deep.equal([
        429,
        "StripeRateLimitError",
        "rate_limit",
      ]);
      expect(limited.headers?.["stripe-rate-limited-reason"]).to.equal("global-rate");
      nowMs += 1000;
      expect((await stripe().customers.list({ limit: 1 })).data).to.have.length(1);
    } finally {
      standIn.setRateLimit(false);
    }
  });

  it("injects 5xx answers (retried by the SDK) and latency on the paths it is told", async () => {
    standIn.faults.add({ type: "http_error", status: 503, path: "/v1/subscriptions" });
    standIn.faults.add({ type: "latency", ms: 50, path: "/v1/payment_intents" });
    const retried = await client("sk_test_standin123", 1).subscriptions.list({ limit: 1 });
    expect(retried.data).to.have.length(1);
    expect((await stripe().paymentIntents.list({ limit: 1 })).data).to.have.length(1);
    expect(standIn.requests().map((r) => [r.path, r.status])).to.deep.equal([
      ["/v1/subscriptions", 503],
      ["/v1/subscriptions", 200],
      ["/v1/payment_intents", 200],
    ]);
  });

  it("serves checkout sessions and webhook endpoints seeded from real shapes", async () => {
    const session = fixture("checkout.session.completed");
    standIn.seed(session);
    standIn.seed({
      id: "we_1StandIn",
      object: "webhook_endpoint",
      created: 1735689600,
      enabled_events: ["customer.updated", "payment_intent.succeeded"],
      livemode: false,
      status: "enabled",
      url: "https://example.com/webhook/stripe",
    });
    const sessions = await stripe().checkout.sessions.list({ subscription: String(session.subscription) });
    expect(sessions.data.map((s) => s.id)).to.deep.equal([session.id]);
    const endpoints = await stripe().webhookEndpoints.list();
    expect(endpoints.data[0]?.enabled_events).to.deep.equal(["customer.updated", "payment_intent.succeeded"]);
  });

  it("generates the same realistic data for the same seed, with events oldest first", () => {
    const again = generateStripeData({ customers: 25, startAt });
    expect(again).to.deep.equal(data);
    expect(data.events).to.have.length(75);
    const created = data.events.map((e) => e.created ?? 0);
    expect(created).to.deep.equal([...created].sort((a, b) => a - b));
    expect(data.subscriptions[0]).to.include({ object: "subscription", customer: data.customers[0]?.id });
    expect(new Set(data.paymentIntents.map((p) => p.status))).to.include("succeeded");
  });
});

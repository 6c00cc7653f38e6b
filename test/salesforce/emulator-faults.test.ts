import { expect } from "chai";
import { startSalesforceEmulator, type SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { errorCodes, openSession, recordCodes, type EmulatorHttp } from "./emulator-http.js";
import { credentials, customer } from "./salesforce-test-kit.js";

describe("Salesforce emulator: fault injection", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;
  let nowMs = Date.parse("2026-05-01T10:00:00Z");
  const upsertCustomers = (...ids: string[]) =>
    http.upsert(
      "Stripe_Customer__c",
      "Stripe_Customer_Id__c",
      ids.map((id) => customer(id)),
    );
  const countCustomers = () => http.query("SELECT COUNT() FROM Stripe_Customer__c");

  before(async () => {
    emulator = await startSalesforceEmulator({ credentials, clock: { now: () => nowMs } });
    http = await openSession(emulator);
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("applies a call fault only to the operation and object it names", async () => {
    emulator.faults.add({ type: "http_error", status: 503, operation: "query", count: 5 });
    emulator.faults.add({ type: "http_error", status: 500, object: "Stripe_Subscription__c" });
    expect((await upsertCustomers("cus_1")).status).to.equal(200);
    expect((await countCustomers()).status).to.equal(503);
    const subscription = await http.upsert("Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      { Stripe_Subscription_Id__c: "sub_1" },
    ]);
    expect(subscription.status).to.equal(500);
    expect(errorCodes(subscription)).to.deep.equal(["SERVER_UNAVAILABLE"]);
  });

  it("keeps a forMs fault firing until the emulator's clock has moved past it", async () => {
    emulator.faults.add({ type: "http_error", status: 503, forMs: 20_000 });
    expect((await upsertCustomers("cus_1")).status).to.equal(503);
    nowMs += 19_999;
    expect((await upsertCustomers("cus_1")).status).to.equal(503);
    expect(emulator.faults.list()[0]).to.include({ remaining: null, expiresAt: "2026-05-01T10:00:20.000Z" });
    nowMs += 1;
    expect((await upsertCustomers("cus_1")).status).to.equal(200);
    expect(emulator.faults.list()).to.deep.equal([]);
  });

  it("answers the daily allowance and the long-transaction limit with their own messages", async () => {
    emulator.faults.add({ type: "request_limit" });
    emulator.faults.add({ type: "request_limit", limit: "ConcurrentPerOrgLongTxn" });
    const daily = await countCustomers();
    const concurrent = await countCustomers();
    expect([daily.status, concurrent.status]).to.deep.equal([403, 403]);
    expect((daily.body as Array<{ message: string }>)[0]?.message).to.equal("TotalRequests Limit exceeded.");
    expect((concurrent.body as Array<{ message: string }>)[0]?.message).to.equal(
      "ConcurrentPerOrgLongTxn Limit exceeded.",
    );
  });

  it("refuses writes during maintenance with Salesforce's error code, and still answers reads", async () => {
    emulator.faults.add({ type: "maintenance", forMs: 60_000 });
    const write = await upsertCustomers("cus_1");
    expect(write.status).to.equal(503);
    expect(errorCodes(write)).to.deep.equal(["INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE"]);
    expect((await countCustomers()).status).to.equal(200);
    expect(emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("fails records of the named object only, by External ID or as a locked row", async () => {
    emulator.faults.add({ type: "lock_row", object: "Stripe_Subscription__c" });
    emulator.faults.add({
      type: "record_error",
      externalId: "cus_2",
      statusCode: "DUPLICATE_VALUE",
      object: "Stripe_Customer__c",
    });
    const answer = await upsertCustomers("cus_1", "cus_2");
    expect(recordCodes(answer.body)).to.deep.equal(["ok", "DUPLICATE_VALUE"]);
    const subscriptions = await http.upsert("Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      { Stripe_Subscription_Id__c: "sub_1" },
      { Stripe_Subscription_Id__c: "sub_2" },
    ]);
    expect(recordCodes(subscriptions.body)).to.deep.equal(["UNABLE_TO_LOCK_ROW", "ok"]);
  });

  it("delays an answer by the latency asked for, so a later call overtakes it", async () => {
    emulator.faults.add({ type: "latency", ms: 300, operation: "collections_upsert" });
    const order: string[] = [];
    const slow = upsertCustomers("cus_1").then(() => order.push("upsert"));
    const started = Date.now();
    await countCustomers().then(() => order.push("query"));
    await slow;
    console.log(`      (latency fault: the upsert answered ${Date.now() - started} ms after it was sent)`);
    expect(order).to.deep.equal(["query", "upsert"]);
  });

  it("a latency fault armed for a duration delays every call in it once, and each call is answered", async () => {
    emulator.faults.add({ type: "latency", ms: 40, forMs: 60_000 });
    emulator.faults.add({ type: "latency", ms: 20, count: 1 });
    const timed = async () => {
      const started = performance.now();
      const answer = await countCustomers();
      return { ms: performance.now() - started, status: answer.status };
    };
    const first = await timed();
    const second = await timed();
    // Lower bounds only: the first call waits for both faults, the second for the lasting one alone.
    expect(first.status).to.equal(200);
    expect(second.status).to.equal(200);
    expect(first.ms).to.be.at.least(59);
    expect(second.ms).to.be.at.least(39);
  });

  it("leaves a hung call unanswered until the fault is cleared, then closes its connection", async () => {
    emulator.faults.add({ type: "hang", operation: "query" });
    let isSettled = false;
    const hung = countCustomers().then(
      () => "answered",
      () => "closed",
    );
    void hung.then(() => (isSettled = true));
    expect((await upsertCustomers("cus_1")).status).to.equal(200);
    expect(emulator.stats().apiCalls.byOperation.query).to.equal(1);
    expect(isSettled).to.equal(false);
    emulator.faults.clear();
    expect(await hung).to.equal("closed");
  });

  it("applies a held write at once and answers it only when released", async () => {
    emulator.faults.add({ type: "hold_after_write" });
    let answered = false;
    const held = upsertCustomers("cus_1").then((answer) => {
      answered = true;
      return answer;
    });
    await emulator.waitForHeld();
    expect(emulator.records("Stripe_Customer__c").map((r) => r.Stripe_Customer_Id__c)).to.deep.equal([
      "cus_1",
    ]);
    expect(answered).to.equal(false);
    const released = await fetch(`${emulator.url}/__emulator/release`, { method: "POST" });
    expect(await released.json()).to.deep.equal({ released: 1 });
    expect(recordCodes((await held).body)).to.deep.equal(["ok"]);
  });

  it("refuses a fault it cannot read, naming what is wrong", async () => {
    const answer = await fetch(`${emulator.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ type: "http_error", status: 503, operation: "bogus" }),
    });
    expect(answer.status).to.equal(400);
    expect(((await answer.json()) as { error: string }).error).to.match(/^operation must be one of/);
  });
});

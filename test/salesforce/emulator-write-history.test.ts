import { expect } from "chai";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { openSession, type EmulatorHttp } from "./emulator-http.js";
import { customer, startEmulator } from "./salesforce-test-kit.js";

describe("Salesforce emulator: write history and control endpoints", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;

  before(async () => {
    emulator = await startEmulator();
    http = await openSession(emulator);
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("records every write with object, External ID, record Id, outcome, fields sent and source", async () => {
    await http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_1", { Email__c: "a@b.co" }),
    ]);
    await http.call(`${http.base}/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c/cus_1`, {
      method: "PATCH",
      body: { Name: "Renamed" },
    });
    const history = emulator.history("Stripe_Customer__c");
    const [first, second] = history;
    const id = emulator.records("Stripe_Customer__c")[0]?.Id;
    expect(history).to.have.length(2);
    expect(first).to.include({
      object: "Stripe_Customer__c",
      externalId: "cus_1",
      recordId: id,
      outcome: "created",
    });
    expect(first?.source).to.equal("collections_upsert");
    expect(first?.fields).to.include({ Name: "Customer cus_1", Email__c: "a@b.co" });
    expect(second).to.include({ outcome: "updated", source: "upsert", recordId: id });
    expect(second?.fields).to.include({ Name: "Renamed" });
    expect(Number.isNaN(Date.parse(second?.at ?? ""))).to.equal(false);
  });

  it("leaves failed records out of the history, filters by object, and forgets it on reset", async () => {
    await http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_1"),
      customer("cus_2", { Email__c: "not-an-email" }),
    ]);
    await http.upsert("Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      { Stripe_Subscription_Id__c: "sub_1", Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_1" } },
    ]);
    expect(emulator.history().map((e) => e.externalId)).to.deep.equal(["cus_1", "sub_1"]);
    const overHttp = (await (
      await fetch(`${emulator.url}/__emulator/history/Stripe_Subscription__c`)
    ).json()) as Array<{
      fields: Record<string, unknown>;
    }>;
    expect(overHttp).to.have.length(1);
    expect(overHttp[0]?.fields.Stripe_Customer__c).to.equal(emulator.records("Stripe_Customer__c")[0]?.Id);
    emulator.reset();
    expect(emulator.history()).to.deep.equal([]);
  });

  it("answers GET /__emulator with the list of control endpoints", async () => {
    const help = (await (await fetch(`${emulator.url}/__emulator`)).json()) as {
      endpoints: Record<string, string>;
    };
    expect(Object.keys(help.endpoints)).to.include.members([
      "POST /__emulator/faults",
      "POST /__emulator/release",
      "GET /__emulator/history[/<Object>]",
      "POST /__emulator/schema",
      "POST /__emulator/api-usage",
    ]);
    const unknown = await fetch(`${emulator.url}/__emulator/nope`);
    expect(unknown.status).to.equal(404);
  });

  it("reports the org's limits in Salesforce's shape, following the API usage a test sets", async () => {
    emulator.setApiUsage(14_000, 15_000);
    const answer = await http.call(`${http.base}/limits`);
    expect(answer.status).to.equal(200);
    // The limits call itself is one more request.
    expect((answer.body as Record<string, unknown>).DailyApiRequests).to.deep.equal({
      Max: 15_000,
      Remaining: 999,
    });
    expect(answer.headers.get("sforce-limit-info")).to.equal("api-usage=14001/15000");
    const usage = await fetch(`${emulator.url}/__emulator/api-usage`, {
      method: "POST",
      body: JSON.stringify({ used: 10 }),
    });
    expect(await usage.json()).to.deep.equal({ used: 10, limit: 15_000 });
  });

  it("refuses calls once usage reaches the limit, and serves them again when usage falls", async () => {
    emulator.setApiUsage(100, 100);
    const refused = await http.query("SELECT COUNT() FROM Stripe_Customer__c");
    expect(refused.status).to.equal(403);
    expect(refused.body).to.deep.equal([
      { message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" },
    ]);
    emulator.setApiUsage(50);
    expect((await http.query("SELECT COUNT() FROM Stripe_Customer__c")).status).to.equal(200);
  });
});

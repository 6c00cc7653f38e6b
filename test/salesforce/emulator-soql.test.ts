import { expect } from "chai";
import jsforce from "jsforce";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { errorCodes, openSession, type EmulatorHttp } from "./emulator-http.js";
import { customer, startEmulator } from "./salesforce-test-kit.js";

type QueryBody = {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
};

describe("Salesforce emulator: SOQL reads", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;
  const upsertCustomers = (records: object[]) =>
    http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", records);
  const ids = (answer: { body: unknown }) =>
    (answer.body as QueryBody).records.map((r) => r.Stripe_Customer_Id__c as string);

  before(async () => {
    emulator = await startEmulator();
    http = await openSession(emulator);
  });
  after(() => emulator.stop());
  beforeEach(() => emulator.reset());

  it("selects by WHERE <field> IN (...) combined with AND", async () => {
    await upsertCustomers([
      customer("cus_1", { Livemode__c: true }),
      customer("cus_2", { Livemode__c: false }),
      customer("cus_3", { Livemode__c: true }),
    ]);
    const answer = await http.query(
      "SELECT Stripe_Customer_Id__c FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c IN ('cus_1', 'cus_2','cus_3', 'cus_9') AND Livemode__c = true ORDER BY Stripe_Customer_Id__c",
    );
    expect(ids(answer)).to.deep.equal(["cus_1", "cus_3"]);
    const notIn = await http.query(
      "SELECT Stripe_Customer_Id__c FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c NOT IN ('cus_1') ORDER BY Stripe_Customer_Id__c",
    );
    expect(ids(notIn)).to.deep.equal(["cus_2", "cus_3"]);
  });

  it("reads SOQL's escape sequences in string literals and refuses a stray backslash", async () => {
    const awkward = ["o'brien", "back\\slash", "two\nlines", 'say "hi"'];
    await upsertCustomers(awkward.map((id) => customer(id)));
    const escape = (value: string) =>
      value.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n").replace(/"/g, '\\"');
    const answer = await http.query(
      `SELECT Stripe_Customer_Id__c FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c IN (${awkward.map((v) => `'${escape(v)}'`).join(",")})`,
    );
    expect(ids(answer)).to.have.members(awkward);
    const upperCase = await http.query(
      "SELECT Id FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c = 'two\\Nlines'",
    );
    expect((upperCase.body as QueryBody).totalSize).to.equal(1);
    const stray = await http.query("SELECT Id FROM Stripe_Customer__c WHERE Name = 'a\\qb'");
    expect([stray.status, ...errorCodes(stray)]).to.deep.equal([400, "MALFORMED_QUERY"]);
  });

  it("answers 414 to a URI over 16,384 bytes and 431 when URI and headers together are", async () => {
    const values = Array.from({ length: 800 }, (_, i) => `'cus_${String(i).padStart(12, "0")}'`).join(",");
    const long = await http.query(
      `SELECT Id FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c IN (${values})`,
    );
    expect(long.status).to.equal(414);
    const ok = await http.query("SELECT COUNT() FROM Stripe_Customer__c", {
      "x-padding": "x".repeat(12_000),
    });
    expect(ok.status).to.equal(200);
    const values2 = Array.from({ length: 250 }, (_, i) => `'cus_${String(i).padStart(12, "0")}'`).join(",");
    const withHeaders = await http.query(
      `SELECT Id FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c IN (${values2})`,
      { "x-padding": "x".repeat(12_000) },
    );
    expect(withHeaders.status).to.equal(431);
  });

  it("pages past 2,000 records with nextRecordsUrl, and jsforce's autoFetch reads them all", async () => {
    for (let batch = 0; batch < 13; batch++) {
      await upsertCustomers(Array.from({ length: 200 }, (_, i) => customer(`cus_${batch * 200 + i}`)));
    }
    const first = await http.query("SELECT Stripe_Customer_Id__c FROM Stripe_Customer__c");
    const page = first.body as QueryBody;
    expect([page.totalSize, page.done, page.records.length]).to.deep.equal([2600, false, 2000]);
    expect(page.nextRecordsUrl).to.match(/^\/services\/data\/v62\.0\/query\/01g\w+-2000$/);
    const second = (await http.call(page.nextRecordsUrl ?? "")).body as QueryBody;
    expect([second.done, second.records.length, second.nextRecordsUrl]).to.deep.equal([true, 600, undefined]);
    const small = (
      await http.query("SELECT Id FROM Stripe_Customer__c LIMIT 700", {
        "sforce-query-options": "batchSize=500",
      })
    ).body as QueryBody;
    expect([small.totalSize, small.records.length]).to.deep.equal([700, 500]);

    const connection = new jsforce.Connection({
      instanceUrl: emulator.url,
      accessToken: http.token,
      version: "62.0",
    });
    const all = await connection.query("SELECT Stripe_Customer_Id__c FROM Stripe_Customer__c", {
      autoFetch: true,
      maxFetch: 10_000,
    });
    expect(all.records).to.have.length(2600);
    expect(new Set(all.records.map((r) => r.Stripe_Customer_Id__c)).size).to.equal(2600);
  });
});

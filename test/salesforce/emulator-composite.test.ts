import { expect } from "chai";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { errorCodes, openSession, recordCodes, type EmulatorHttp } from "./emulator-http.js";
import { customer, startEmulator } from "./salesforce-test-kit.js";

type SubResult = {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
};

describe("Salesforce emulator: composite requests", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;
  const collections = (object: string, extField: string, referenceId: string, records: object[]) => ({
    method: "PATCH",
    url: `/services/data/v62.0/composite/sobjects/${object}/${extField}`,
    referenceId,
    body: { allOrNone: false, records: records.map((r) => ({ attributes: { type: object }, ...r })) },
  });
  const customers = (referenceId: string, ...ids: string[]) =>
    collections(
      "Stripe_Customer__c",
      "Stripe_Customer_Id__c",
      referenceId,
      ids.map((id) => customer(id)),
    );
  const subscriptions = (referenceId: string, ...pairs: Array<[string, string]>) =>
    collections(
      "Stripe_Subscription__c",
      "Stripe_Subscription_Id__c",
      referenceId,
      pairs.map(([sub, cus]) => ({
        Stripe_Subscription_Id__c: sub,
        Stripe_Customer__r: { Stripe_Customer_Id__c: cus },
      })),
    );
  const query = (referenceId: string, soql: string) => ({
    method: "GET",
    url: `/services/data/v62.0/query?q=${encodeURIComponent(soql)}`,
    referenceId,
  });
  const composite = async (compositeRequest: object[], allOrNone = false) => {
    const answer = await http.call(`${http.base}/composite`, {
      method: "POST",
      body: { allOrNone, compositeRequest },
    });
    return {
      ...answer,
      results: (answer.body as { compositeResponse?: SubResult[] }).compositeResponse ?? [],
    };
  };

  before(async () => {
    emulator = await startEmulator();
    http = await openSession(emulator);
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("writes parents then children in one call, counted as one API call with its subrequests apart", async () => {
    const answer = await composite([
      customers("parents", "cus_1", "cus_2"),
      subscriptions("children", ["sub_1", "cus_1"], ["sub_2", "cus_2"]),
      query("check", "SELECT COUNT() FROM Stripe_Subscription__c"),
    ]);
    expect(answer.status).to.equal(200);
    expect(answer.results.map((r) => [r.referenceId, r.httpStatusCode])).to.deep.equal([
      ["parents", 200],
      ["children", 200],
      ["check", 200],
    ]);
    expect(recordCodes(answer.results[1]?.body)).to.deep.equal(["ok", "ok"]);
    expect((answer.results[2]?.body as { totalSize: number }).totalSize).to.equal(2);
    const stats = emulator.stats();
    expect(stats.apiCalls.total).to.equal(1);
    expect(stats.apiCalls.byOperation).to.deep.equal({ composite: 1 });
    expect(stats.apiCalls.subrequestsByOperation).to.deep.equal({ collections_upsert: 2, query: 1 });
    expect(answer.headers.get("sforce-limit-info")).to.equal("api-usage=1/100000");
    expect(emulator.history().map((e) => e.source)).to.deep.equal(Array(4).fill("composite"));
  });

  it("without allOrNone a failed subrequest fails alone, and a subrequest referring to it is halted", async () => {
    emulator.faults.add({
      type: "http_error",
      status: 400,
      errorCode: "INVALID_FIELD",
      message: "No such column 'Foo__c' on sobject of type Stripe_Subscription__c",
      operation: "collections_upsert",
      object: "Stripe_Subscription__c",
    });
    const answer = await composite([
      customers("parents", "cus_1"),
      subscriptions("children", ["sub_1", "cus_1"]),
      query("after", "SELECT Id FROM Stripe_Subscription__c WHERE Name = '@{children[0].id}'"),
      {
        method: "PATCH",
        url: "/services/data/v62.0/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c/cus_2",
        referenceId: "single",
        body: { Name: "Second" },
      },
    ]);
    expect(answer.results.map((r) => r.httpStatusCode)).to.deep.equal([200, 400, 400, 201]);
    expect(errorCodes({ body: answer.results[1]?.body } as never)).to.deep.equal(["INVALID_FIELD"]);
    const halted = (answer.results[2]?.body as Array<{ errorCode: string; message: string }>)[0];
    expect(halted?.errorCode).to.equal("PROCESSING_HALTED");
    expect(halted?.message).to.match(
      /^Invalid reference specified\. No value for children\[0\]\.id found in children/,
    );
    expect(answer.results[3]?.httpHeaders.Location).to.match(
      /^\/services\/data\/v62\.0\/sobjects\/Stripe_Customer__c\/a01/,
    );
    expect(emulator.records("Stripe_Customer__c")).to.have.length(2);
  });

  it("resolves @{ref.field} from an earlier subrequest's answer", async () => {
    const answer = await composite([
      {
        method: "PATCH",
        url: "/services/data/v62.0/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c/cus_1",
        referenceId: "made",
        body: { Name: "First" },
      },
      query("found", "SELECT Name FROM Stripe_Customer__c WHERE Id = '@{made.id}'"),
    ]);
    expect((answer.results[1]?.body as { records: Array<{ Name: string }> }).records[0]?.Name).to.equal(
      "First",
    );
  });

  it("with allOrNone a failed record rolls every write back and halts the other subrequests", async () => {
    const answer = await composite(
      [
        customers("parents", "cus_1"),
        collections("Stripe_Customer__c", "Stripe_Customer_Id__c", "bad", [
          customer("cus_2", { Email__c: "nope" }),
        ]),
        query("never", "SELECT COUNT() FROM Stripe_Customer__c"),
      ],
      true,
    );
    expect(answer.results.map((r) => r.referenceId)).to.deep.equal(["parents", "bad", "never"]);
    expect(answer.results[1]?.body).to.satisfy(
      (body: unknown) => recordCodes(body)[0] === "INVALID_EMAIL_ADDRESS",
    );
    for (const index of [0, 2]) {
      expect(answer.results[index]?.httpStatusCode).to.equal(400);
      expect((answer.results[index]?.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal(
        "PROCESSING_HALTED",
      );
    }
    expect(emulator.records("Stripe_Customer__c")).to.deep.equal([]);
    expect(emulator.history()).to.deep.equal([]);
    expect(emulator.stats().records).to.deep.equal({ created: 0, updated: 0, failed: 0 });
  });

  it("applies per-record faults to the records of a collections subrequest", async () => {
    emulator.faults.add({ type: "lock_row", object: "Stripe_Subscription__c" });
    emulator.faults.add({ type: "record_error", externalId: "cus_2", statusCode: "INVALID_EMAIL_ADDRESS" });
    const answer = await composite([
      customers("parents", "cus_1", "cus_2"),
      subscriptions("children", ["sub_1", "cus_1"], ["sub_2", "cus_1"]),
    ]);
    expect(recordCodes(answer.results[0]?.body)).to.deep.equal(["ok", "INVALID_EMAIL_ADDRESS"]);
    expect(recordCodes(answer.results[1]?.body)).to.deep.equal(["UNABLE_TO_LOCK_ROW", "ok"]);
  });

  it("refuses more than 25 subrequests, or more than 5 collections and queries, before running any", async () => {
    const many = Array.from({ length: 26 }, (_, i) => ({
      method: "GET",
      url: "/services/data/v62.0/sobjects/Stripe_Customer__c/describe",
      referenceId: `d${i}`,
    }));
    const tooMany = await composite(many);
    expect([tooMany.status, ...errorCodes(tooMany)]).to.deep.equal([400, "LIMIT_EXCEEDED"]);
    const heavy = await composite(Array.from({ length: 6 }, (_, i) => customers(`c${i}`, `cus_${i}`)));
    expect([heavy.status, ...errorCodes(heavy)]).to.deep.equal([400, "LIMIT_EXCEEDED"]);
    expect(emulator.records("Stripe_Customer__c")).to.deep.equal([]);
    const describes = await composite(many.slice(0, 25));
    expect(describes.results.every((r) => r.httpStatusCode === 200)).to.equal(true);
  });

  it("fails a query subrequest longer than 100,000 characters with MALFORMED_QUERY, and only that one", async () => {
    const long = `SELECT Id FROM Stripe_Customer__c WHERE Name IN (${Array(9000).fill("'abcdefghij'").join(",")})`;
    const answer = await composite([query("long", long), customers("write", "cus_1")]);
    expect(answer.results.map((r) => r.httpStatusCode)).to.deep.equal([400, 200]);
    expect((answer.results[0]?.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal(
      "MALFORMED_QUERY",
    );
  });

  it("during maintenance fails its write subrequests and still answers its queries", async () => {
    emulator.faults.add({ type: "maintenance", forMs: 60_000 });
    const answer = await composite([
      customers("write", "cus_1"),
      query("read", "SELECT COUNT() FROM Stripe_Customer__c"),
    ]);
    expect(answer.status).to.equal(200);
    expect(answer.results.map((r) => r.httpStatusCode)).to.deep.equal([503, 200]);
    expect((answer.results[0]?.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal(
      "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
    );
  });

  it("holds a composite write's answer after applying it, like a single call", async () => {
    emulator.faults.add({ type: "hold_after_write", operation: "composite" });
    const pending = composite([customers("write", "cus_1")]);
    const waited = await fetch(`${emulator.url}/__emulator/held?wait=true`);
    expect(await waited.json()).to.deep.equal({ held: 1 });
    expect(emulator.history()).to.have.length(1);
    emulator.releaseHeld();
    expect((await pending).status).to.equal(200);
  });
});

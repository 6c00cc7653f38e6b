import { expect } from "chai";
import nock from "nock";
import { chunkRecords } from "../../src/data-access/salesforce/collections-upsert.js";
import { SalesforceClient } from "../../src/data-access/salesforce/salesforce-client.js";
import { InMemoryTokenCache } from "../../src/data-access/salesforce/token-cache.js";
import { PermanentSyncError, RetryableSyncError } from "../../src/shared/errors.js";
import { createMetrics } from "../../src/shared/metrics.js";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { createClient, customer, metricValue, silentLogger, startEmulator } from "./salesforce-test-kit.js";
import { upsert } from "./salesforce-test-kit.js";

describe("Salesforce client against the emulator", () => {
  let emulator: SalesforceEmulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("upserts by External ID: first created, then updated, the same record", async () => {
    const { client } = createClient(emulator);
    const [first] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_1", { Email__c: "a@example.com" }),
    ]);
    expect(first).to.include({ externalId: "cus_1", success: true, created: true, isRetryable: false });
    expect(first?.id).to.match(/^a01\w{15}$/);
    const [second] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_1", { Balance__c: 12.5 }),
    ]);
    expect(second).to.include({ success: true, created: false, id: first?.id });
    const stored = emulator.records("Stripe_Customer__c");
    expect(stored).to.have.length(1);
    expect(stored[0]).to.include({ Email__c: "a@example.com", Balance__c: 12.5 });
  });

  it("reports per-record failures in request order: a too-long Name is permanent, a locked row retryable", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({ type: "record_error", externalId: "cus_locked", statusCode: "UNABLE_TO_LOCK_ROW" });
    const results = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_ok"),
      customer("cus_long", { Name: "x".repeat(81) }),
      customer("cus_locked"),
    ]);
    expect(results.map((r) => r.externalId)).to.deep.equal(["cus_ok", "cus_long", "cus_locked"]);
    expect(results[0]).to.include({ success: true, isRetryable: false });
    expect(results[1]).to.include({ success: false, isRetryable: false });
    expect(results[1]?.errors[0]).to.deep.include({ statusCode: "STRING_TOO_LONG", fields: ["Name"] });
    expect(results[1]?.errors[0]?.message).to.match(/^Name: data value too large: x+ \(max length=80\)$/);
    expect(results[2]).to.include({ success: false, isRetryable: true });
    expect(results[2]?.errors[0]?.statusCode).to.equal("UNABLE_TO_LOCK_ROW");
  });

  it("a child whose parent customer does not exist fails with INVALID_FIELD; with the parent it links to its Id", async () => {
    const { client } = createClient(emulator);
    const subscription = {
      Stripe_Subscription_Id__c: "sub_1",
      Name: "sub_1",
      Status__c: "active",
      Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_missing" },
    };
    const [orphan] = await upsert(client, "Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      subscription,
    ]);
    expect(orphan).to.include({ success: false, isRetryable: false });
    expect(orphan?.errors[0]).to.deep.equal({
      statusCode: "INVALID_FIELD",
      message:
        "Foreign key external ID: cus_missing not found for field Stripe_Customer_Id__c in entity Stripe_Customer__c",
      fields: [],
    });
    const [parent] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_missing"),
    ]);
    const [linked] = await upsert(client, "Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      subscription,
    ]);
    expect(linked?.success).to.equal(true);
    expect(emulator.records("Stripe_Subscription__c")[0]).to.include({ Stripe_Customer__c: parent?.id });
  });

  it("after the session expires mid-run, refreshes exactly once and the write succeeds", async () => {
    const { client } = createClient(emulator);
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_a")]);
    emulator.faults.add({ type: "expire_sessions" });
    const [result] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_b")]);
    expect(result?.success).to.equal(true);
    expect(emulator.stats().tokenRequests.total).to.equal(2);
  });

  it("a session that stays invalid after the refresh ends in a retryable INVALID_SESSION_ID, not a loop", async () => {
    const { client, metrics } = createClient(emulator);
    emulator.faults.add({ type: "invalid_session", count: 100 });
    const error = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a"),
    ]).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RetryableSyncError).and.include({ code: "INVALID_SESSION_ID" });
    expect(emulator.stats().tokenRequests.total).to.equal(2);
    expect(emulator.stats().apiCalls.byOperation.collections_upsert).to.equal(2);
    expect(await metricValue(metrics.salesforceCalls, { operation: "upsert", status: "401" })).to.equal(2);
  });

  it("a 503 is retryable", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({ type: "http_error", status: 503 });
    const error = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a"),
    ]).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RetryableSyncError).and.include({ code: "SERVER_UNAVAILABLE" });
    expect(emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("REQUEST_LIMIT_EXCEEDED TotalRequests pauses for the daily limit; ConcurrentPerOrgLongTxn is retried within seconds", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({ type: "request_limit", limit: "TotalRequests" });
    const daily = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a"),
    ]).catch((e: unknown) => e);
    expect(daily)
      .to.be.instanceOf(RetryableSyncError)
      .and.include({ code: "REQUEST_LIMIT_EXCEEDED", scope: "api_limit" });
    emulator.faults.add({ type: "request_limit", limit: "ConcurrentPerOrgLongTxn" });
    const concurrent = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a"),
    ]).catch((e: unknown) => e);
    expect(concurrent)
      .to.be.instanceOf(RetryableSyncError)
      .and.include({ code: "REQUEST_LIMIT_EXCEEDED", scope: "record" });
  });

  it("a whole-call refusal that is the org's (an unknown object or field) pauses rather than dead-letters", async () => {
    const { client } = createClient(emulator);
    const error = await upsert(client, "No_Such__c", "Ext__c", [{ Ext__c: "x" }]).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(RetryableSyncError).and.include({ code: "NOT_FOUND", scope: "org" });
    const unknownField = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a", { Nope__c: 1 }),
    ]).catch((e: unknown) => e);
    expect(unknownField)
      .to.be.instanceOf(RetryableSyncError)
      .and.include({ code: "INVALID_FIELD", scope: "org" });
  });

  it("a whole-call 4xx that may be one record's is that request's permanent answer", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({
      type: "http_error",
      status: 400,
      errorCode: "JSON_PARSER_ERROR",
      message: "bad value",
    });
    const error = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a"),
    ]).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(PermanentSyncError).and.include({ code: "JSON_PARSER_ERROR" });
  });

  it("250 records go out as two collections requests of 200 and 50 in one Composite call, results in request order", async () => {
    const { client, metrics } = createClient(emulator);
    const records = Array.from({ length: 250 }, (_, i) => customer(`cus_${i}`));
    const results = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", records);
    expect(results.map((r) => r.externalId)).to.deep.equal(records.map((r) => r.Stripe_Customer_Id__c));
    expect(results.every((r) => r.success && r.created)).to.equal(true);
    expect(emulator.stats().apiCalls.byOperation.composite).to.equal(1);
    expect(emulator.stats().apiCalls.subrequestsByOperation.collections_upsert).to.equal(2);
    const histogram = await metrics.salesforceRecordsPerCall.get();
    const count = histogram.values.find((v) => v.metricName === "salesforce_records_per_call_count");
    const sum = histogram.values.find((v) => v.metricName === "salesforce_records_per_call_sum");
    expect([count?.value, sum?.value]).to.deep.equal([2, 250]);
  });

  it("the same External ID twice in one batch goes in two requests, in order, so the later values win", async () => {
    const { client } = createClient(emulator);
    const results = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_a", { Description__c: "first" }),
      customer("cus_a", { Description__c: "second" }),
    ]);
    expect(results.map((r) => r.success)).to.deep.equal([true, true]);
    expect(emulator.records("Stripe_Customer__c")[0]).to.include({ Description__c: "second" });
    expect(
      chunkRecords([customer("a"), customer("b"), customer("a")], "Stripe_Customer_Id__c", 200).map(
        (c) => c.length,
      ),
    ).to.deep.equal([2, 1]);
  });

  it("sets the API usage gauge from Sforce-Limit-Info", async () => {
    const { client, metrics } = createClient(emulator);
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_a")]);
    const used = emulator.stats().apiUsage.used;
    expect(used).to.be.greaterThan(0);
    expect(await metricValue(metrics.salesforceApiUsage, { kind: "used" })).to.equal(used);
    expect(await metricValue(metrics.salesforceApiUsage, { kind: "limit" })).to.equal(100000);
  });

  it("describe lists the definition's fields and query reads what landed, through the relationship", async () => {
    const { client } = createClient(emulator);
    const described = await client.describe("Stripe_Subscription__c");
    const status = described.fields.find((f) => f.name === "Status__c");
    expect(status).to.include({ type: "picklist", restrictedPicklist: true });
    expect(described.fields.find((f) => f.name === "Stripe_Subscription_Id__c")).to.include({
      externalId: true,
      unique: true,
    });
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_q", { Name: "Quinn" }),
    ]);
    await upsert(client, "Stripe_Subscription__c", "Stripe_Subscription_Id__c", [
      {
        Stripe_Subscription_Id__c: "sub_q",
        Name: "sub_q",
        Quantity__c: 3,
        Stripe_Customer__r: { Stripe_Customer_Id__c: "cus_q" },
      },
    ]);
    const result = await client.query(
      "SELECT Id, Quantity__c, Stripe_Customer__r.Name FROM Stripe_Subscription__c WHERE Stripe_Subscription_Id__c = 'sub_q'",
    );
    expect(result.totalSize).to.equal(1);
    expect(result.records[0]).to.deep.include({ Quantity__c: 3 });
    expect((result.records[0]?.Stripe_Customer__r as Record<string, unknown>).Name).to.equal("Quinn");
    expect((await client.query("SELECT COUNT() FROM Stripe_Customer__c")).totalSize).to.equal(1);
  });

  it("DUPLICATE_VALUE on the External ID (two creates racing) is retryable; on another field it is permanent", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({
      type: "record_error",
      externalId: "cus_race",
      statusCode: "DUPLICATE_VALUE",
      message:
        "duplicate value found: Stripe_Customer_Id__c duplicates value on record with id: a01000000000001AAA",
    });
    emulator.faults.add({
      type: "record_error",
      externalId: "cus_rule",
      statusCode: "DUPLICATE_VALUE",
      message: "duplicate value found: Email__c duplicates value on record with id: a01000000000002AAA",
    });
    const [race, rule] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
      customer("cus_race"),
      customer("cus_rule"),
    ]);
    expect(race).to.include({ success: false, isRetryable: true });
    expect(rule).to.include({ success: false, isRetryable: false });
  });

  it("a query whose session expired refreshes the token once and reads through jsforce", async () => {
    const { client } = createClient(emulator);
    await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_read")]);
    const tokensBefore = emulator.stats().tokenRequests.total;
    emulator.faults.add({ type: "expire_sessions" });
    const result = await client.query("SELECT Id FROM Stripe_Customer__c");
    expect(result.totalSize).to.equal(1);
    expect(emulator.stats().tokenRequests.total).to.equal(tokensBefore + 1);
  });

  it("a query whose session stays invalid fails after one refresh instead of looping", async () => {
    const { client } = createClient(emulator);
    emulator.faults.add({ type: "invalid_session", count: 10 });
    const tokensBefore = emulator.stats().tokenRequests.total;
    let caught: unknown;
    try {
      await client.query("SELECT Id FROM Stripe_Customer__c");
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(RetryableSyncError);
    expect((caught as RetryableSyncError).code).to.equal("INVALID_SESSION_ID");
    expect(emulator.stats().tokenRequests.total - tokensBefore).to.be.at.most(2);
  });

  it("describes several objects in one Composite call; a missing one is undefined, confirmed by its own GET", async () => {
    const { client } = createClient(emulator);
    emulator.schema.dropObject("Payment_Transaction__c");
    const before = emulator.stats().apiCalls;
    const described = await client.describeObjects([
      "Stripe_Customer__c",
      "Stripe_Subscription__c",
      "Payment_Transaction__c",
    ]);
    const after = emulator.stats().apiCalls;
    expect([...described.keys()]).to.have.members([
      "Stripe_Customer__c",
      "Stripe_Subscription__c",
      "Payment_Transaction__c",
    ]);
    expect(described.get("Payment_Transaction__c")).to.equal(undefined);
    const subscription = described.get("Stripe_Subscription__c");
    expect(subscription?.fields.find((f) => f.name === "Stripe_Subscription_Id__c")).to.include({
      externalId: true,
      createable: true,
    });
    // One Composite call for the three, then one GET for the object that did not answer 200.
    expect(after.total - before.total).to.equal(2);
    expect((after.byOperation.composite ?? 0) - (before.byOperation.composite ?? 0)).to.equal(1);
  });

  describe("network failures the emulator cannot produce", () => {
    beforeEach(() => {
      nock.disableNetConnect();
      nock.enableNetConnect("127.0.0.1");
    });
    afterEach(() => {
      nock.cleanAll();
      nock.enableNetConnect();
    });
    const instanceUrl = "https://acme.my.example.test";
    /** A client whose cached token points at `instanceUrl`, where nock answers. */
    const clientOfInstance = async (metrics?: ReturnType<typeof createMetrics>) => {
      const tokenCache = new InMemoryTokenCache();
      await tokenCache.getToken(async () => ({ accessToken: "t", instanceUrl, id: "i", issuedAt: 1 }));
      return new SalesforceClient({
        auth: { loginUrl: instanceUrl, clientId: "c", clientSecret: "s" },
        apiVersion: "62.0",
        tokenCache,
        logger: silentLogger,
        ...(metrics ? { metrics } : {}),
      });
    };

    it("a reset connection on the upsert is retryable and counted as network_error", async () => {
      const metrics = createMetrics({ collectDefaults: false });
      const client = await clientOfInstance(metrics);
      nock(instanceUrl)
        .patch("/services/data/v62.0/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c")
        .replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      // A failure of the whole call (the network) throws; the worker pauses on an outage.
      const error = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
        customer("cus_a"),
      ]).catch((e: unknown) => e);
      expect(error)
        .to.be.instanceOf(RetryableSyncError)
        .and.include({ code: "network_error", scope: "outage" });
      expect(
        await metricValue(metrics.salesforceCalls, { operation: "upsert", status: "network_error" }),
      ).to.equal(1);
    });

    it("reads a record error spelled errorCode (as other REST errors are) like one spelled statusCode", async () => {
      const client = await clientOfInstance();
      nock(instanceUrl)
        .patch("/services/data/v62.0/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c")
        .reply(200, [
          {
            success: false,
            errors: [{ errorCode: "UNABLE_TO_LOCK_ROW", message: "unable to obtain exclusive access" }],
          },
        ]);
      const [result] = await upsert(client, "Stripe_Customer__c", "Stripe_Customer_Id__c", [
        customer("cus_b"),
      ]);
      expect(result).to.include({ success: false, isRetryable: true });
      expect(result?.errors[0]?.statusCode).to.equal("UNABLE_TO_LOCK_ROW");
    });

    it("a peer that refuses describes inside Composite: each object is described on its own instead", async () => {
      const client = await clientOfInstance();
      const fields = [
        {
          name: "Stripe_Customer_Id__c",
          type: "string",
          createable: true,
          updateable: true,
          externalId: true,
        },
      ];
      const scope = nock(instanceUrl)
        .post("/services/data/v62.0/composite")
        .reply(400, [{ errorCode: "INVALID_API_INPUT", message: "unsupported subrequest" }])
        .get("/services/data/v62.0/sobjects/Stripe_Customer__c/describe")
        .reply(200, { name: "Stripe_Customer__c", fields })
        .get("/services/data/v62.0/sobjects/Stripe_Subscription__c/describe")
        .reply(404, [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }]);
      const described = await client.describeObjects(["Stripe_Customer__c", "Stripe_Subscription__c"]);
      expect(described.get("Stripe_Customer__c")?.fields[0]).to.include({ externalId: true });
      expect(described.has("Stripe_Subscription__c")).to.equal(true);
      expect(described.get("Stripe_Subscription__c")).to.equal(undefined);
      expect(scope.isDone(), "the Composite call and both GETs were made").to.equal(true);
    });
  });
});

import { expect } from "chai";
import jsforce from "jsforce";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { openSession, type EmulatorHttp } from "./emulator-http.js";
import { customer, startEmulator } from "./salesforce-test-kit.js";

type JobInfo = {
  id: string;
  state: string;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
  errorMessage?: string;
};

describe("Salesforce emulator: Bulk API 2.0 ingest jobs", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;
  let connection: jsforce.Connection;
  const jobs = () => `${http.base}/jobs/ingest`;
  const waitForEnd = async (id: string): Promise<JobInfo> => {
    for (;;) {
      const info = (await http.call(`${jobs()}/${id}`)).body as JobInfo;
      if (!["Open", "UploadComplete", "InProgress"].includes(info.state)) return info;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  const runJob = async (
    csv: string,
    object = "Stripe_Subscription__c",
    externalIdFieldName = "Stripe_Subscription_Id__c",
  ) => {
    const created = (
      await http.call(jobs(), {
        method: "POST",
        body: { object, externalIdFieldName, operation: "upsert", contentType: "CSV", lineEnding: "LF" },
      })
    ).body as JobInfo;
    expect(created.state).to.equal("Open");
    expect(
      (await http.call(`${jobs()}/${created.id}/batches`, { method: "PUT", text: csv })).status,
    ).to.equal(201);
    const closed = await http.call(`${jobs()}/${created.id}`, {
      method: "PATCH",
      body: { state: "UploadComplete" },
    });
    expect((closed.body as JobInfo).state).to.equal("UploadComplete");
    return waitForEnd(created.id);
  };
  const csvOf = async (id: string, kind: string) =>
    (await http.call(`${jobs()}/${id}/${kind}/`)).body as string;

  before(async () => {
    emulator = await startEmulator();
    http = await openSession(emulator);
    connection = new jsforce.Connection({
      instanceUrl: emulator.url,
      accessToken: http.token,
      version: "62.0",
    });
    connection.bulk2.pollInterval = 20;
  });
  after(() => emulator.stop());
  beforeEach(async () => {
    emulator.reset();
    emulator.faults.clear();
    await http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", [customer("cus_1")]);
  });

  it("upserts the rows of jsforce's bulk2 job, resolving relationship columns and #N/A as null", async () => {
    const results = await connection.bulk2.loadAndWaitForResults({
      object: "Stripe_Subscription__c",
      operation: "upsert",
      externalIdFieldName: "Stripe_Subscription_Id__c",
      input: [
        {
          Stripe_Subscription_Id__c: "sub_1",
          "Stripe_Customer__r.Stripe_Customer_Id__c": "cus_1",
          Status__c: "active",
        },
        {
          Stripe_Subscription_Id__c: "sub_2",
          "Stripe_Customer__r.Stripe_Customer_Id__c": "cus_9",
          Status__c: "active",
        },
        {
          Stripe_Subscription_Id__c: "sub_3",
          "Stripe_Customer__r.Stripe_Customer_Id__c": "cus_1",
          Status__c: null,
        },
      ],
    });
    expect(
      results.successfulResults.map((r) => [
        (r as Record<string, unknown>).Stripe_Subscription_Id__c,
        r.sf__Created,
      ]),
    ).to.deep.equal([
      ["sub_1", "true"],
      ["sub_3", "true"],
    ]);
    expect(results.failedResults).to.have.length(1);
    expect(results.failedResults[0]?.sf__Error).to.match(
      /^INVALID_FIELD:Foreign key external ID: cus_9 not found/,
    );
    expect(results.unprocessedRecords).to.deep.equal([]);
    const [sub1, sub3] = emulator.records("Stripe_Subscription__c");
    expect(sub1?.Stripe_Customer__c).to.equal(emulator.records("Stripe_Customer__c")[0]?.Id);
    expect(sub3?.Status__c).to.equal(null);
    expect(emulator.history("Stripe_Subscription__c").map((e) => e.source)).to.deep.equal(["bulk", "bulk"]);
  });

  it("reports the job's state and counts, and each Bulk REST call as one API call", async () => {
    emulator.reset();
    const info = await runJob(
      "Stripe_Subscription_Id__c,Status__c,Quantity__c\nsub_1,active,1\nsub_2,bogus,2\nsub_3,trialing,#N/A\n",
    );
    expect(info).to.include({ state: "JobComplete", numberRecordsProcessed: 3, numberRecordsFailed: 1 });
    const successful = await csvOf(info.id, "successfulResults");
    expect(successful.split("\n")[0]).to.equal(
      '"sf__Id","sf__Created","Stripe_Subscription_Id__c","Status__c","Quantity__c"',
    );
    expect(await csvOf(info.id, "failedResults")).to.contain("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    const calls = emulator.stats().apiCalls.byOperation.bulk ?? 0;
    console.log(`      (bulk REST calls for one job, polling included: ${calls})`);
    expect(calls).to.be.at.least(4);
    expect(emulator.stats().apiUsage.used).to.equal(emulator.stats().apiCalls.total);
  });

  it("updates an existing record and leaves a field alone when its column is empty", async () => {
    await runJob("Stripe_Subscription_Id__c,Status__c,Interval__c\nsub_1,active,month\n");
    const info = await runJob("Stripe_Subscription_Id__c,Status__c,Interval__c\nsub_1,canceled,\n");
    expect((await csvOf(info.id, "successfulResults")).split("\n")[1]).to.match(/,"false","sub_1",/);
    expect(emulator.records("Stripe_Subscription__c")[0]).to.include({
      Status__c: "canceled",
      Interval__c: "month",
    });
  });

  it("fails rows for per-record faults and stops part way when told, leaving the rest unprocessed", async () => {
    emulator.faults.add({ type: "record_error", externalId: "sub_2", statusCode: "UNABLE_TO_LOCK_ROW" });
    emulator.faults.add({ type: "bulk_unprocessed", afterRows: 3, state: "Failed" });
    const rows = ["sub_1", "sub_2", "sub_3", "sub_4", "sub_5"].map((id) => `${id},active`).join("\n");
    const info = await runJob(`Stripe_Subscription_Id__c,Status__c\n${rows}\n`);
    expect(info).to.include({ state: "Failed", numberRecordsProcessed: 3, numberRecordsFailed: 1 });
    expect(info.errorMessage).to.be.a("string");
    expect(await csvOf(info.id, "failedResults")).to.contain(
      '"UNABLE_TO_LOCK_ROW:injected UNABLE_TO_LOCK_ROW: --","sub_2"',
    );
    expect((await csvOf(info.id, "unprocessedrecords")).trim().split("\n")).to.deep.equal([
      '"Stripe_Subscription_Id__c","Status__c"',
      '"sub_4","active"',
      '"sub_5","active"',
    ]);
  });

  it("fails the whole job for a column the object does not have, and can be aborted before it runs", async () => {
    const info = await runJob("Stripe_Subscription_Id__c,Nope__c\nsub_1,x\n");
    expect(info).to.include({
      state: "Failed",
      errorMessage: "InvalidBatch : Field name not found : Nope__c",
    });
    const created = (
      await http.call(jobs(), {
        method: "POST",
        body: {
          object: "Stripe_Customer__c",
          externalIdFieldName: "Stripe_Customer_Id__c",
          operation: "upsert",
        },
      })
    ).body as JobInfo;
    const aborted = await http.call(`${jobs()}/${created.id}`, {
      method: "PATCH",
      body: { state: "Aborted" },
    });
    expect((aborted.body as JobInfo).state).to.equal("Aborted");
    expect((await http.call(`${jobs()}/nope`)).status).to.equal(404);
  });
});

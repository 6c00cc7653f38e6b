import { expect } from "chai";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { errorCodes, openSession, recordCodes, type EmulatorHttp } from "./emulator-http.js";
import { customer, startEmulator } from "./salesforce-test-kit.js";

type DescribedField = {
  name: string;
  createable: boolean;
  updateable: boolean;
  externalId: boolean;
  idLookup: boolean;
};

describe("Salesforce emulator: the org's schema changed at run time", () => {
  let emulator: SalesforceEmulator;
  let http: EmulatorHttp;
  const upsertCustomers = (records: object[]) =>
    http.upsert("Stripe_Customer__c", "Stripe_Customer_Id__c", records);
  const describeFields = async (object: string) =>
    ((await http.call(`${http.base}/sobjects/${object}/describe`)).body as { fields: DescribedField[] })
      .fields;

  before(async () => {
    emulator = await startEmulator();
    http = await openSession(emulator);
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("a dropped field fails the whole collections call with INVALID_FIELD and leaves describe and SOQL", async () => {
    emulator.schema.dropField("Stripe_Customer__c", "Phone__c");
    const answer = await upsertCustomers([customer("cus_1"), customer("cus_2", { Phone__c: "+1 555" })]);
    expect(answer.status).to.equal(400);
    expect(answer.body).to.deep.include({
      errorCode: "INVALID_FIELD",
      message: "No such column 'Phone__c' on sobject of type Stripe_Customer__c",
      fields: [],
    });
    expect(emulator.records("Stripe_Customer__c")).to.have.length(0);
    expect((await describeFields("Stripe_Customer__c")).map((f) => f.name)).to.not.include("Phone__c");
    const query = await http.query("SELECT Phone__c FROM Stripe_Customer__c");
    expect(errorCodes(query)).to.deep.equal(["INVALID_FIELD"]);
  });

  it("a field made read-only by field-level security fails updates of it, per record, and describe says so", async () => {
    await upsertCustomers([customer("cus_1")]);
    emulator.schema.setFieldAccess("Stripe_Customer__c", "Email__c", { updateable: false });
    const answer = await upsertCustomers([
      customer("cus_1", { Email__c: "new@example.com" }),
      customer("cus_2", { Email__c: "created@example.com" }),
    ]);
    expect(recordCodes(answer.body)).to.deep.equal(["INVALID_FIELD_FOR_INSERT_UPDATE", "ok"]);
    const [error] =
      (answer.body as Array<{ errors: Array<{ message: string; fields: string[] }> }>)[0]?.errors ?? [];
    expect(error?.fields).to.deep.equal(["Email__c"]);
    expect(error?.message).to.match(
      /^Unable to create\/update fields: Email__c\. Please check the security settings/,
    );
    const email = (await describeFields("Stripe_Customer__c")).find((f) => f.name === "Email__c");
    expect(email).to.include({ createable: true, updateable: false });
  });

  it("a field that is not createable fails inserts that set it, but not updates", async () => {
    await upsertCustomers([customer("cus_1")]);
    emulator.schema.setFieldAccess("Stripe_Customer__c", "Description__c", { createable: false });
    const answer = await upsertCustomers([
      customer("cus_1", { Description__c: "kept" }),
      customer("cus_2", { Description__c: "refused" }),
    ]);
    expect(recordCodes(answer.body)).to.deep.equal(["ok", "INVALID_FIELD_FOR_INSERT_UPDATE"]);
  });

  it("describe keeps reporting External IDs and lookups as Salesforce does", async () => {
    const fields = await describeFields("Stripe_Subscription__c");
    expect(fields.find((f) => f.name === "Stripe_Subscription_Id__c")).to.include({
      externalId: true,
      idLookup: true,
    });
    expect(fields.find((f) => f.name === "Stripe_Account_Id__c")).to.include({
      externalId: false,
      updateable: true,
    });
  });

  it("a dropped object answers NOT_FOUND to REST calls and INVALID_TYPE to SOQL", async () => {
    await upsertCustomers([customer("cus_1")]);
    emulator.schema.dropObject("Stripe_Customer__c");
    const describe = await http.call(`${http.base}/sobjects/Stripe_Customer__c/describe`);
    expect([describe.status, ...errorCodes(describe)]).to.deep.equal([404, "NOT_FOUND"]);
    const write = await upsertCustomers([customer("cus_2")]);
    expect([write.status, ...errorCodes(write)]).to.deep.equal([404, "NOT_FOUND"]);
    const query = await http.query("SELECT Id FROM Stripe_Customer__c");
    expect([query.status, ...errorCodes(query)]).to.deep.equal([400, "INVALID_TYPE"]);
    expect(emulator.records("Stripe_Customer__c")).to.have.length(1);
  });

  it("takes schema changes over HTTP, lists them, and restores the original schema on reset", async () => {
    const post = (body: object) =>
      fetch(`${emulator.url}/__emulator/schema`, { method: "POST", body: JSON.stringify(body) });
    expect(
      (await post({ action: "drop_field", object: "Stripe_Customer__c", field: "Phone__c" })).status,
    ).to.equal(200);
    const bad = await post({ action: "drop_field", object: "Stripe_Customer__c", field: "Nope__c" });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { error: string }).error).to.equal(
      "no field Nope__c on Stripe_Customer__c",
    );
    const listed = (await (await fetch(`${emulator.url}/__emulator/schema`)).json()) as unknown[];
    expect(listed).to.deep.equal([{ action: "drop_field", object: "Stripe_Customer__c", field: "Phone__c" }]);
    emulator.reset();
    expect(emulator.schema.changes()).to.deep.equal([]);
    expect((await upsertCustomers([customer("cus_1", { Phone__c: "+1 555" })])).status).to.equal(200);
  });
});

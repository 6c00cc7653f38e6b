import { expect } from "chai";
import { requestSalesforceToken } from "../../src/data-access/salesforce/salesforce-auth.js";
import { startSalesforceEmulator, type SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { caseSafeSuffix } from "../../src/emulator/salesforce/salesforce-ids.js";
import { credentials, customer, startEmulator } from "./salesforce-test-kit.js";

describe("Salesforce emulator over HTTP", () => {
  let emulator: SalesforceEmulator;
  let token: string;
  const collections = (version = "62.0") =>
    `${emulator.url}/services/data/v${version}/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c`;
  const call = async (url: string, init: { method?: string; body?: unknown; bearer?: string } = {}) => {
    const response = await fetch(url, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${init.bearer ?? token}`, "content-type": "application/json" },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as unknown };
  };
  const upsertAll = (records: unknown[], allOrNone = false, version?: string) =>
    call(collections(version), {
      method: "PATCH",
      body: {
        allOrNone,
        records: records.map((r) => ({ attributes: { type: "Stripe_Customer__c" }, ...(r as object) })),
      },
    });

  before(async () => {
    emulator = await startEmulator({ apiLimit: 1000 });
    token = (
      await requestSalesforceToken({
        loginUrl: emulator.url,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
      })
    ).accessToken;
  });
  after(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    emulator.faults.clear();
  });

  it("refuses a data call without a valid session with INVALID_SESSION_ID", async () => {
    const answer = await call(
      `${emulator.url}/services/data/v62.0/query?q=SELECT+Id+FROM+Stripe_Customer__c`,
      { bearer: "bogus" },
    );
    expect(answer.status).to.equal(401);
    expect(answer.body).to.deep.equal([
      { message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" },
    ]);
  });

  it("lists versions without Sforce-Limit-Info, and puts it on data calls", async () => {
    const versions = await fetch(`${emulator.url}/services/data/`);
    expect(versions.headers.get("sforce-limit-info")).to.equal(null);
    expect(((await versions.json()) as Array<{ version: string }>).map((v) => v.version)).to.include("62.0");
    const answer = await upsertAll([customer("cus_1")]);
    expect(answer.headers.get("sforce-limit-info")).to.match(/^api-usage=\d+\/1000$/);
  });

  it("with allOrNone true nothing commits and the valid records are rolled back", async () => {
    const answer = await upsertAll(
      [customer("cus_1"), customer("cus_2", { Email__c: "not-an-email" })],
      true,
    );
    expect(answer.status).to.equal(200);
    const [first, second] = answer.body as Array<{ success: boolean; errors: Array<{ statusCode: string }> }>;
    expect(first?.errors[0]?.statusCode).to.equal("ALL_OR_NONE_OPERATION_ROLLED_BACK");
    expect(second?.errors[0]?.statusCode).to.equal("INVALID_EMAIL_ADDRESS");
    expect(emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("fails both records that share an External ID, and refuses more than 200 records", async () => {
    const duplicate = await upsertAll([customer("cus_1"), customer("cus_1"), customer("cus_2")]);
    const codes = (duplicate.body as Array<{ success: boolean; errors: Array<{ statusCode: string }> }>).map(
      (r) => r.errors[0]?.statusCode ?? "ok",
    );
    expect(codes).to.deep.equal(["DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID", "ok"]);
    const tooMany = await upsertAll(Array.from({ length: 201 }, (_, i) => customer(`cus_${i}`)));
    expect(tooMany.status).to.equal(400);
    expect((tooMany.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal("EXCEEDED_ID_LIMIT");
  });

  it("collections upsert needs API 46.0 or later", async () => {
    const old = await upsertAll([customer("cus_1")], false, "45.0");
    expect(old.status).to.equal(404);
  });

  it("matches External IDs case-sensitively", async () => {
    await upsertAll([customer("cus_ABC")]);
    const answer = await upsertAll([customer("cus_abc")]);
    expect((answer.body as Array<{ created: boolean }>)[0]?.created).to.equal(true);
    expect(emulator.records("Stripe_Customer__c")).to.have.length(2);
  });

  it("validates fields from the definition: picklist, number range, Name on insert, types", async () => {
    const subscriptions = `${emulator.url}/services/data/v62.0/composite/sobjects/Stripe_Subscription__c/Stripe_Subscription_Id__c`;
    const answer = await call(subscriptions, {
      method: "PATCH",
      body: {
        allOrNone: false,
        records: [
          {
            attributes: { type: "Stripe_Subscription__c" },
            Stripe_Subscription_Id__c: "sub_1",
            Status__c: "bogus",
          },
          {
            attributes: { type: "Stripe_Subscription__c" },
            Stripe_Subscription_Id__c: "sub_2",
            Quantity__c: 1e19,
          },
          { attributes: { type: "Stripe_Subscription__c" }, Stripe_Subscription_Id__c: "sub_3", Name: null },
          { attributes: { type: "Stripe_Subscription__c" }, Stripe_Subscription_Id__c: "sub_4" },
        ],
      },
    });
    const results = answer.body as Array<{ success: boolean; errors: Array<{ statusCode: string }> }>;
    expect(results.map((r) => r.errors[0]?.statusCode ?? "ok")).to.deep.equal([
      "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
      "NUMBER_OUTSIDE_VALID_RANGE",
      "REQUIRED_FIELD_MISSING",
      "ok",
    ]);
    const [inserted] = emulator.records("Stripe_Subscription__c");
    expect(inserted?.Name).to.equal(inserted?.Id);
    const badCheckbox = await upsertAll([customer("cus_1", { Livemode__c: "yes" })]);
    expect(badCheckbox.status).to.equal(400);
    expect((badCheckbox.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal("JSON_PARSER_ERROR");
  });

  it("gives records 18-character case-safe ids and audit timestamps", async () => {
    await upsertAll([customer("cus_1", { Stripe_Created__c: "2024-05-01T10:00:00Z" })]);
    const [record] = emulator.records("Stripe_Customer__c");
    expect(record?.Id).to.have.length(18);
    expect(record?.Id.slice(15)).to.equal(caseSafeSuffix(record?.Id.slice(0, 15) ?? ""));
    expect(record).to.include({ Stripe_Created__c: "2024-05-01T10:00:00.000+0000" });
    expect(record?.CreatedDate).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
  });

  it("single upsert answers 201 on insert and 200 on update", async () => {
    const url = `${emulator.url}/services/data/v62.0/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c/cus_single`;
    const created = await call(url, { method: "PATCH", body: { Name: "One" } });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ success: true, created: true });
    const updated = await call(url, { method: "PATCH", body: { Name: "Two" } });
    expect(updated.status).to.equal(200);
    expect(updated.body).to.include({ created: false });
    const tooLong = await call(url, { method: "PATCH", body: { Currency__c: "EURO" } });
    expect(tooLong.status).to.equal(400);
    expect((tooLong.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal("STRING_TOO_LONG");
  });

  it("takes faults over HTTP, reports stats and lists records for a newcomer", async () => {
    const armed = await fetch(`${emulator.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ type: "http_error", status: 503, count: 2 }),
    });
    expect(armed.status).to.equal(201);
    expect((await upsertAll([customer("cus_1")])).status).to.equal(503);
    expect((await upsertAll([customer("cus_1")])).status).to.equal(503);
    expect((await upsertAll([customer("cus_1")])).status).to.equal(200);
    emulator.faults.add({ type: "lock_row" });
    const locked = await upsertAll([customer("cus_1"), customer("cus_2")]);
    expect(
      (locked.body as Array<{ errors: Array<{ statusCode: string }> }>).map(
        (r) => r.errors[0]?.statusCode ?? "ok",
      ),
    ).to.deep.equal(["UNABLE_TO_LOCK_ROW", "ok"]);
    const bad = await fetch(`${emulator.url}/__emulator/faults`, {
      method: "POST",
      body: JSON.stringify({ type: "nope" }),
    });
    expect(bad.status).to.equal(400);
    const stats = (await (await fetch(`${emulator.url}/__emulator/stats`)).json()) as {
      apiCalls: { byOperation: Record<string, number> };
      records: { created: number };
    };
    expect(stats.apiCalls.byOperation.collections_upsert).to.equal(4);
    expect(stats.records.created).to.equal(2);
    const listed = (await (
      await fetch(`${emulator.url}/__emulator/records/Stripe_Customer__c`)
    ).json()) as unknown[];
    expect(listed).to.have.length(2);
    expect((await fetch(`${emulator.url}/__emulator/records`, { method: "DELETE" })).status).to.equal(204);
    expect(emulator.records("Stripe_Customer__c")).to.have.length(0);
  });

  it("answers 403 REQUEST_LIMIT_EXCEEDED once the daily API limit is spent", async () => {
    const small = await startEmulator({ apiLimit: 1 });
    try {
      const session = await requestSalesforceToken({
        loginUrl: small.url,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
      });
      const query = `${small.url}/services/data/v62.0/query?q=${encodeURIComponent("SELECT COUNT() FROM Stripe_Customer__c")}`;
      expect((await call(query, { bearer: session.accessToken })).status).to.equal(200);
      const refused = await call(query, { bearer: session.accessToken });
      expect(refused.status).to.equal(403);
      expect((refused.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal("REQUEST_LIMIT_EXCEEDED");
    } finally {
      await small.stop();
    }
  });

  it("answers simple SOQL with WHERE, ORDER BY and LIMIT, and refuses unknown columns", async () => {
    await upsertAll([
      customer("cus_1", { Balance__c: 5 }),
      customer("cus_2", { Balance__c: 9 }),
      customer("cus_3", { Balance__c: 1 }),
    ]);
    const soql =
      "SELECT Stripe_Customer_Id__c, Balance__c FROM Stripe_Customer__c WHERE Balance__c > 2 ORDER BY Balance__c DESC LIMIT 5";
    const answer = await call(`${emulator.url}/services/data/v62.0/query?q=${encodeURIComponent(soql)}`);
    const body = answer.body as { totalSize: number; records: Array<Record<string, unknown>> };
    expect(body.records.map((r) => r.Stripe_Customer_Id__c)).to.deep.equal(["cus_2", "cus_1"]);
    expect(body.records[0]?.attributes).to.have.property("type", "Stripe_Customer__c");
    const bad = await call(
      `${emulator.url}/services/data/v62.0/query?q=${encodeURIComponent("SELECT Nope__c FROM Stripe_Customer__c")}`,
    );
    expect(bad.status).to.equal(400);
    expect((bad.body as Array<{ errorCode: string }>)[0]?.errorCode).to.equal("INVALID_FIELD");
  });

  it("takes its objects from the definition it is given", async () => {
    const renamed = await startSalesforceEmulator({
      credentials,
      objects: [
        {
          name: "Client__c",
          label: "Client",
          pluralLabel: "Clients",
          externalIdField: "Ext__c",
          fields: [{ name: "Ext__c", label: "Ext", type: "Text", length: 20, isExternalId: true }],
        },
      ],
    });
    try {
      const session = await requestSalesforceToken({
        loginUrl: renamed.url,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
      });
      const described = await call(`${renamed.url}/services/data/v62.0/sobjects/Client__c/describe`, {
        bearer: session.accessToken,
      });
      expect(described.status).to.equal(200);
      expect((described.body as { fields: Array<{ name: string }> }).fields.map((f) => f.name)).to.include(
        "Ext__c",
      );
      const missing = await call(`${renamed.url}/services/data/v62.0/sobjects/Stripe_Customer__c/describe`, {
        bearer: session.accessToken,
      });
      expect(missing.status).to.equal(404);
    } finally {
      await renamed.stop();
    }
  });
});

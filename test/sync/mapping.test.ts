import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMapping, mappingFromOverrides } from "../../src/domain/sync/mapping-file.js";
import { defaultMapping, effectiveObjects } from "../../src/domain/sync/mapping.js";
import { SALESFORCE_OBJECTS } from "../../src/salesforce-schema/objects.js";
import { ConfigError } from "../../src/shared/errors.js";
import { createTestSync, loadEvent } from "./support/sync-fixtures.js";
import { FakeSalesforceWriter } from "./support/fake-salesforce-writer.js";

const OVERRIDE_YAML = `
objects:
  Stripe_Customer__c:
    name: Acme_Customer__c
    fields:
      Email__c: Customer_Email__c
      Stripe_Customer_Id__c: Stripe_Id__c
    drop: [Phone__c]
    add:
      CRM_Account__c: metadata.crm_account
  Payment_Transaction__c:
    fields:
      Stripe_Customer__c: Acme_Customer__c
`;

/** The ConfigError message `fn` throws. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("mapping overrides", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "mapping-"));
  });

  it("without a file the mapping is exactly the contract", () => {
    expect(loadMapping(undefined)).to.deep.equal(defaultMapping());
    expect(effectiveObjects(defaultMapping())).to.deep.equal(SALESFORCE_OBJECTS);
  });

  it("renames objects and fields, drops fields and fills added ones from a path in the Stripe object", async () => {
    const path = join(dir, "mapping.yaml");
    writeFileSync(path, OVERRIDE_YAML);
    const test = createTestSync({
      mapping: loadMapping(path),
      writer: new FakeSalesforceWriter("Acme_Customer__c"),
    });
    await test.sync(loadEvent("customer.updated"));
    const [call] = test.writer.calls;
    expect(call?.objectName).to.equal("Acme_Customer__c");
    expect(call?.externalIdField).to.equal("Stripe_Id__c");
    expect(call?.records[0]).to.include({
      Stripe_Id__c: "cus_RnQk1aB2cD3eF4",
      Customer_Email__c: "jenny.rosen@example.com",
      CRM_Account__c: "0015g00000AbCdE",
      Name: "Jenny Rosen",
    });
    expect(call?.records[0]).to.not.have.any.keys("Phone__c", "Email__c", "Stripe_Customer_Id__c");
  });

  it("a renamed lookup and parent External ID follow into the child's relationship", async () => {
    const test = createTestSync({
      mapping: mappingFromOverrides(loadYaml()),
      writer: new FakeSalesforceWriter("Acme_Customer__c"),
    });
    expect(await test.sync(loadEvent("payment_intent.payment_failed"))).to.deep.equal([
      { status: "applied" },
    ]);
    expect(test.writer.calls.map((c) => c.objectName)).to.deep.equal([
      "Acme_Customer__c",
      "Payment_Transaction__c",
    ]);
    expect(test.writer.calls[0]?.records[0]).to.deep.equal({
      Stripe_Id__c: "cus_NeverSeen00001",
      Name: "cus_NeverSeen00001",
    });
    expect(test.writer.calls[1]?.records[0]?.Acme_Customer__r).to.deep.equal({
      Stripe_Id__c: "cus_NeverSeen00001",
    });
  });

  it("the effective definitions follow the override, with added fields as Text(255)", () => {
    const [customer, , payment] = effectiveObjects(mappingFromOverrides(loadYaml()));
    expect(customer?.name).to.equal("Acme_Customer__c");
    expect(customer?.externalIdField).to.equal("Stripe_Id__c");
    const names = customer?.fields.map((f) => f.name);
    expect(names).to.include.members(["Customer_Email__c", "CRM_Account__c"]).and.not.include("Phone__c");
    expect(customer?.fields.find((f) => f.name === "CRM_Account__c")).to.include({
      type: "Text",
      length: 255,
    });
    expect(payment?.fields.find((f) => f.name === "Acme_Customer__c")).to.include({
      type: "Lookup",
      referenceTo: "Acme_Customer__c",
      relationshipName: "Acme_Customer__r",
    });
  });

  it("reads JSON as well as YAML", () => {
    const path = join(dir, "mapping.json");
    writeFileSync(path, JSON.stringify({ objects: { Stripe_Subscription__c: { drop: ["Interval__c"] } } }));
    expect(loadMapping(path).objects.Stripe_Subscription__c.fields).to.not.have.property("Interval__c");
  });

  it("rejects a field the default mapping does not have, naming the entry", () => {
    const message = errorOf(() =>
      mappingFromOverrides({ objects: { Stripe_Customer__c: { fields: { Foo__c: "Bar__c" } } } }),
    );
    expect(message).to.equal(
      "mapping file objects.Stripe_Customer__c.fields.Foo__c: no such field in the default mapping",
    );
  });

  it("rejects dropping the External ID or the last-event fields, but lets them be renamed", () => {
    expect(
      errorOf(() =>
        mappingFromOverrides({ objects: { Stripe_Customer__c: { drop: ["Stripe_Customer_Id__c"] } } }),
      ),
    ).to.match(
      /objects\.Stripe_Customer__c\.drop\.Stripe_Customer_Id__c: the External ID field cannot be dropped/,
    );
    expect(
      errorOf(() =>
        mappingFromOverrides({ objects: { Payment_Transaction__c: { drop: ["Last_Stripe_Event_At__c"] } } }),
      ),
    ).to.match(/objects\.Payment_Transaction__c\.drop\.Last_Stripe_Event_At__c: cannot be dropped/);
    const renamed = mappingFromOverrides({
      objects: { Payment_Transaction__c: { fields: { Last_Stripe_Event_At__c: "Stripe_Event_Time__c" } } },
    });
    expect(renamed.objects.Payment_Transaction__c.fields.Last_Stripe_Event_At__c).to.equal(
      "Stripe_Event_Time__c",
    );
  });

  it("rejects an unknown object, an unknown key, a bad API name and a name used twice", () => {
    expect(errorOf(() => mappingFromOverrides({ objects: { Account: { name: "X__c" } } }))).to.equal(
      "mapping file objects.Account: no such object in the default mapping",
    );
    expect(errorOf(() => mappingFromOverrides({ objects: { Stripe_Customer__c: { rename: {} } } }))).to.match(
      /^mapping file objects\.Stripe_Customer__c: .*rename/,
    );
    expect(
      errorOf(() =>
        mappingFromOverrides({ objects: { Stripe_Customer__c: { fields: { Email__c: "bad name" } } } }),
      ),
    ).to.match(/^mapping file objects\.Stripe_Customer__c\.fields\.Email__c: must be a Salesforce API name/);
    expect(
      errorOf(() =>
        mappingFromOverrides({ objects: { Stripe_Customer__c: { fields: { Email__c: "Phone__c" } } } }),
      ),
    ).to.match(/Phone__c is already the name of/);
    expect(
      errorOf(() =>
        mappingFromOverrides({ objects: { Stripe_Customer__c: { add: { Email__c: "metadata.x" } } } }),
      ),
    ).to.match(/objects\.Stripe_Customer__c\.add\.Email__c: clashes/);
  });

  it("names the file when it cannot be read or parsed", () => {
    expect(errorOf(() => loadMapping(join(dir, "missing.yaml")))).to.match(
      /^mapping file .*missing\.yaml: cannot read/,
    );
    const path = join(dir, "broken.yaml");
    writeFileSync(path, "objects: [unclosed");
    expect(errorOf(() => loadMapping(path))).to.match(/^mapping file .*broken\.yaml: not valid YAML or JSON/);
  });
});

function loadYaml(): unknown {
  return {
    objects: {
      Stripe_Customer__c: {
        name: "Acme_Customer__c",
        fields: { Email__c: "Customer_Email__c", Stripe_Customer_Id__c: "Stripe_Id__c" },
        drop: ["Phone__c"],
        add: { CRM_Account__c: "metadata.crm_account" },
      },
      Payment_Transaction__c: { fields: { Stripe_Customer__c: "Acme_Customer__c" } },
    },
  };
}

import { expect } from "chai";
import { describeSalesforceCall } from "../../src/data-access/salesforce/traced-salesforce-fetch.js";

const BASE = "https://acme.my.salesforce.com";
const DATA = `${BASE}/services/data/v62.0`;
const records = (n: number) => Array.from({ length: n }, (_, i) => ({ Stripe_Customer_Id__c: `cus_${i}` }));

describe("tracing: what a Salesforce call span says it did", () => {
  it("a collections upsert: its object and the records it sends", () => {
    const body = JSON.stringify({ allOrNone: false, records: records(3) });
    expect(
      describeSalesforceCall(
        new URL(`${DATA}/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c`),
        body,
      ),
    ).to.deep.equal({ operation: "collections_upsert", objects: ["Stripe_Customer__c"], records: 3 });
  });

  it("a Composite call: the objects of its subrequests, in order, and their records together", () => {
    const body = JSON.stringify({
      allOrNone: false,
      compositeRequest: [
        {
          method: "PATCH",
          url: "/services/data/v62.0/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c",
          referenceId: "r0",
          body: { allOrNone: false, records: records(2) },
        },
        {
          method: "PATCH",
          url: "/services/data/v62.0/composite/sobjects/Stripe_Subscription__c/Stripe_Subscription_Id__c",
          referenceId: "r1",
          body: { allOrNone: false, records: records(5) },
        },
        {
          method: "GET",
          url: `/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id FROM Payment_Transaction__c WHERE Stripe_Payment_Intent_Id__c IN ('pi_1')")}`,
          referenceId: "r2",
        },
      ],
    });
    expect(describeSalesforceCall(new URL(`${DATA}/composite`), body)).to.deep.equal({
      operation: "composite",
      objects: ["Stripe_Customer__c", "Stripe_Subscription__c", "Payment_Transaction__c"],
      subrequests: 3,
      records: 7,
    });
  });

  it("reads, describes, limits and the token: the operation, and the object where there is one", () => {
    const soql = encodeURIComponent(
      "SELECT Id, Name FROM Stripe_Customer__c WHERE Stripe_Customer_Id__c IN ('cus_1')",
    );
    expect(describeSalesforceCall(new URL(`${DATA}/query?q=${soql}`))).to.deep.equal({
      operation: "query",
      objects: ["Stripe_Customer__c"],
    });
    expect(describeSalesforceCall(new URL(`${DATA}/query/01gD0000002HU6KIAW-2000`)).operation).to.equal(
      "query_more",
    );
    expect(describeSalesforceCall(new URL(`${DATA}/sobjects/Stripe_Subscription__c/describe`))).to.deep.equal(
      {
        operation: "describe",
        objects: ["Stripe_Subscription__c"],
      },
    );
    expect(describeSalesforceCall(new URL(`${DATA}/limits`)).operation).to.equal("limits");
    expect(describeSalesforceCall(new URL(`${BASE}/services/oauth2/token`)).operation).to.equal("token");
  });

  it("a body that is not JSON still names the call", () => {
    expect(
      describeSalesforceCall(
        new URL(`${DATA}/composite/sobjects/Stripe_Customer__c/Stripe_Customer_Id__c`),
        "{",
      ),
    ).to.deep.equal({ operation: "collections_upsert", objects: ["Stripe_Customer__c"] });
  });
});

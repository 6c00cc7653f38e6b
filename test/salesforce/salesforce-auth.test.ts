import { expect } from "chai";
import nock from "nock";
import {
  createJwtAssertion,
  jwtAudience,
  requestSalesforceToken,
  SalesforceAuthError,
} from "../../src/data-access/salesforce/salesforce-auth.js";
import { RetryableSyncError } from "../../src/shared/errors.js";
import { createMetrics } from "../../src/shared/metrics.js";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { credentials, jwtKeys, metricValue, startEmulator } from "./salesforce-test-kit.js";

describe("Salesforce OAuth token requests", () => {
  let emulator: SalesforceEmulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.stop());

  it("the client credentials flow returns a token with the emulator as instance URL", async () => {
    const token = await requestSalesforceToken({
      loginUrl: emulator.url,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    });
    expect(token.instanceUrl).to.equal(emulator.url);
    expect(token.accessToken).to.match(/^00D\w{12}!AQ/);
    expect(token.id).to.match(/\/id\/00D\w{15}\/005\w{15}$/);
    expect(token.issuedAt).to.be.a("number").greaterThan(0);
  });

  it("the password flow sends the password with the security token appended", async () => {
    const token = await requestSalesforceToken({
      loginUrl: emulator.url,
      flow: "password",
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      username: credentials.username,
      password: credentials.password,
      securityToken: credentials.securityToken,
    });
    expect(token.accessToken).to.be.a("string");
    const refused = await requestSalesforceToken({
      loginUrl: emulator.url,
      flow: "password",
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      username: credentials.username,
      password: credentials.password,
    }).catch((error: unknown) => error);
    expect(refused)
      .to.be.instanceOf(SalesforceAuthError)
      .and.include({ oauthError: "invalid_grant", description: "authentication failure" });
  });

  it("the JWT bearer flow signs an RS256 assertion the org verifies with the certificate's key", async () => {
    const token = await requestSalesforceToken({
      loginUrl: emulator.url,
      flow: "jwt",
      clientId: credentials.clientId,
      username: credentials.username,
      privateKey: jwtKeys.privateKey,
    });
    expect(token.instanceUrl).to.equal(emulator.url);
    expect(emulator.stats().tokenRequests.byFlow.jwt).to.be.greaterThan(0);
  });

  it("a JWT signed with another key, or naming another user, is refused with invalid_grant", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const base = {
      loginUrl: emulator.url,
      flow: "jwt" as const,
      clientId: credentials.clientId,
      username: credentials.username,
    };
    const wrongKey = await requestSalesforceToken({ ...base, privateKey: other }).catch((e: unknown) => e);
    expect(wrongKey).to.be.instanceOf(SalesforceAuthError).and.include({ oauthError: "invalid_grant" });
    const wrongUser = await requestSalesforceToken({
      ...base,
      username: "someone@else",
      privateKey: jwtKeys.privateKey,
    }).catch((e: unknown) => e);
    expect(wrongUser).to.be.instanceOf(SalesforceAuthError).and.include({ oauthError: "invalid_grant" });
    const expired = createJwtAssertion({ ...base, privateKey: jwtKeys.privateKey }, Date.now() - 3600_000);
    const response = await fetch(`${emulator.url}/services/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: expired,
      }),
    });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({
      error: "invalid_grant",
      error_description: "expired authorization code",
    });
  });

  it("a wrong client id or secret gets Salesforce's error shapes, counted as refused, retryable for the worker", async () => {
    const metrics = createMetrics({ collectDefaults: false });
    const badId = await requestSalesforceToken(
      { loginUrl: emulator.url, clientId: "nope", clientSecret: credentials.clientSecret },
      { metrics },
    ).catch((e: unknown) => e);
    expect(badId)
      .to.be.instanceOf(SalesforceAuthError)
      .and.include({ oauthError: "invalid_client_id", description: "client identifier invalid" });
    expect(badId).to.be.instanceOf(RetryableSyncError).and.have.property("kind", "retryable");
    const badSecret = await requestSalesforceToken(
      { loginUrl: emulator.url, clientId: credentials.clientId, clientSecret: "wrong" },
      { metrics },
    ).catch((e: unknown) => e);
    expect(badSecret)
      .to.be.instanceOf(SalesforceAuthError)
      .and.include({ oauthError: "invalid_client", description: "invalid client credentials" });
    expect(
      await metricValue(metrics.salesforceTokenRequests, { flow: "client_credentials", outcome: "refused" }),
    ).to.equal(2);
  });

  it("an unknown grant type is answered unsupported_grant_type", async () => {
    const response = await fetch(`${emulator.url}/services/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "authorization_code" }),
    });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.include({ error: "unsupported_grant_type" });
  });

  it("the JWT audience is the production or sandbox login host, else the login URL itself", () => {
    expect(jwtAudience("https://login.salesforce.com/")).to.equal("https://login.salesforce.com");
    expect(jwtAudience("https://test.salesforce.com")).to.equal("https://test.salesforce.com");
    expect(jwtAudience("https://acme.my.salesforce.com/")).to.equal("https://login.salesforce.com");
    expect(jwtAudience("https://acme--uat.sandbox.my.salesforce.com")).to.equal(
      "https://test.salesforce.com",
    );
    expect(jwtAudience("https://acme.my.site.com/customers")).to.equal("https://acme.my.site.com/customers");
    expect(jwtAudience("http://127.0.0.1:8085")).to.equal("http://127.0.0.1:8085");
  });

  describe("answers a real org cannot be made to give", () => {
    const loginUrl = "https://login.example.test";
    beforeEach(() => {
      nock.disableNetConnect();
      nock.enableNetConnect("127.0.0.1");
    });
    afterEach(() => {
      nock.cleanAll();
      nock.enableNetConnect();
    });

    it("a token response without `id` is rejected as retryable, not trusted", async () => {
      nock(loginUrl)
        .post("/services/oauth2/token")
        .reply(200, { access_token: "x", instance_url: "https://i.example.test" });
      const error = await requestSalesforceToken({ loginUrl, clientId: "c", clientSecret: "s" }).catch(
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(RetryableSyncError).and.include({ code: "token_response_invalid" });
    });

    it("a reset socket or a 503 from the token endpoint is retryable", async () => {
      nock(loginUrl)
        .post("/services/oauth2/token")
        .replyWithError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }));
      const reset = await requestSalesforceToken({ loginUrl, clientId: "c", clientSecret: "s" }).catch(
        (e: unknown) => e,
      );
      expect(reset).to.be.instanceOf(RetryableSyncError).and.include({ code: "token_network_error" });
      nock(loginUrl).post("/services/oauth2/token").reply(503, "<html>down</html>");
      const unavailable = await requestSalesforceToken({ loginUrl, clientId: "c", clientSecret: "s" }).catch(
        (e: unknown) => e,
      );
      expect(unavailable).to.be.instanceOf(RetryableSyncError).and.not.be.instanceOf(SalesforceAuthError);
      expect(unavailable).to.include({ code: "http_503" });
    });
  });
});

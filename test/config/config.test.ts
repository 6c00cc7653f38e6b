import { expect } from "chai";
import { loadConfig } from "../../src/config/config.js";
import { ConfigError } from "../../src/shared/errors.js";

const production = {
  NODE_ENV: "production",
  SQS_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/stripe-events",
  AWS_REGION: "eu-west-1",
  STRIPE_WEBHOOK_SECRET: "whsec_a",
  REDIS_URL: "redis://redis:6379/0",
  SALESFORCE_LOGIN_URL: "https://acme.my.salesforce.com",
  SALESFORCE_CLIENT_ID: "3MVG9id",
  SALESFORCE_CLIENT_SECRET: "s3cr3t",
};

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}

const noFiles = (path: string): string => {
  throw new Error(`ENOENT: no such file or directory, open '${path}'`);
};

describe("configuration", () => {
  it("gives the documented defaults in local mode with an empty environment", () => {
    const config = loadConfig("all", {});
    expect(config.isLocal).to.equal(true);
    expect(config.web.port).to.equal(8000);
    expect(config.worker.port).to.equal(8001);
    expect(config.web.toleranceSeconds).to.equal(300);
    expect(config.web.bodyLimitBytes).to.equal(1024 * 1024);
    expect(config.worker.batchSize).to.equal(10);
    expect(config.worker.idempotencyTtlSeconds).to.equal(35 * 86400);
    expect(config.salesforce.authFlow).to.equal("client_credentials");
    expect(config.sqs.queueUrl).to.equal(undefined);
  });

  it("accepts a complete production environment", () => {
    const config = loadConfig("all", production);
    expect(config.isLocal).to.equal(false);
    expect(config.web.webhookSecrets).to.deep.equal(["whsec_a"]);
    expect(config.redis.url).to.equal("redis://redis:6379/0");
  });

  it("stops production start-up naming each missing variable", () => {
    const { SQS_QUEUE_URL: _q, REDIS_URL: _r, ...rest } = production;
    const message = configError(() => loadConfig("worker", rest));
    expect(message).to.include("SQS_QUEUE_URL").and.include("REDIS_URL");
  });

  it("names a variable with a bad value and says what is wrong", () => {
    expect(configError(() => loadConfig("web", { PORT: "abc" }))).to.match(/PORT: .*number/i);
    expect(configError(() => loadConfig("web", { SQS_QUEUE_URL: "not a url" }))).to.include("SQS_QUEUE_URL");
    expect(configError(() => loadConfig("worker", { SALESFORCE_AUTH_FLOW: "magic" }))).to.include(
      "SALESFORCE_AUTH_FLOW",
    );
    expect(configError(() => loadConfig("worker", { SALESFORCE_API_VERSION: "40.0" }))).to.include(
      "SALESFORCE_API_VERSION",
    );
    expect(configError(() => loadConfig("worker", { REDIS_URL: "localhost:6379" }))).to.include("REDIS_URL");
  });

  it("refuses a mistyped NODE_ENV instead of silently running with local fallbacks", () => {
    expect(configError(() => loadConfig("web", { ...production, NODE_ENV: "prod" }))).to.include("NODE_ENV");
    expect(loadConfig("web", { NODE_ENV: "test" }).isLocal).to.equal(true);
  });

  it("requires the credentials of the chosen Salesforce flow", () => {
    expect(
      configError(() =>
        loadConfig("worker", { ...production, SALESFORCE_AUTH_FLOW: "jwt", SALESFORCE_USERNAME: "u" }),
      ),
    ).to.include("SALESFORCE_PRIVATE_KEY_FILE");
    expect(configError(() => loadConfig("worker", { ...production, SALESFORCE_AUTH_FLOW: "password" })))
      .to.include("SALESFORCE_USERNAME")
      .and.include("SALESFORCE_PASSWORD");
  });

  it("does not ask the webhook role for Salesforce or Redis settings", () => {
    const { REDIS_URL: _r, SALESFORCE_LOGIN_URL: _l, SALESFORCE_CLIENT_ID: _i, ...web } = production;
    expect(loadConfig("web", web).web.webhookSecrets).to.deep.equal(["whsec_a"]);
  });

  it("reads a secret from NAME_FILE, as a mounted Kubernetes Secret, without its trailing newline", () => {
    const files: Record<string, string> = { "/run/secrets/webhook": "whsec_from_file\n" };
    const { STRIPE_WEBHOOK_SECRET: _s, ...rest } = production;
    const config = loadConfig("web", { ...rest, STRIPE_WEBHOOK_SECRET_FILE: "/run/secrets/webhook" }, (p) => {
      const value = files[p];
      if (value === undefined) throw new Error("ENOENT");
      return value;
    });
    expect(config.web.webhookSecrets).to.deep.equal(["whsec_from_file"]);
  });

  it("refuses a secret file that cannot be read, naming the variable", () => {
    const message = configError(() => loadConfig("web", { STRIPE_WEBHOOK_SECRET_FILE: "/nope" }, noFiles));
    expect(message).to.include("STRIPE_WEBHOOK_SECRET_FILE").and.include("/nope");
  });

  it("refuses NAME and NAME_FILE together: one of them would be silently ignored", () => {
    const message = configError(() =>
      loadConfig("web", { STRIPE_WEBHOOK_SECRET: "a", STRIPE_WEBHOOK_SECRET_FILE: "/x" }, () => "b"),
    );
    expect(message).to.include("STRIPE_WEBHOOK_SECRET_FILE");
  });

  it("splits a comma-separated webhook secret list for rotation", () => {
    const config = loadConfig("web", { STRIPE_WEBHOOK_SECRET: "whsec_old, whsec_new ,," });
    expect(config.web.webhookSecrets).to.deep.equal(["whsec_old", "whsec_new"]);
  });

  it("builds REDIS_URL from the seed's REDIS_HOST and REDIS_PORT and takes SALESFORCE_INSTANCE_URL as the login URL", () => {
    const config = loadConfig("worker", {
      REDIS_HOST: "cache",
      REDIS_PORT: "6380",
      SALESFORCE_INSTANCE_URL: "https://test.salesforce.com",
      SALESFORCE_CLIENT_ID: "id",
      SALESFORCE_CLIENT_SECRET: "secret",
    });
    expect(config.redis.url).to.equal("redis://cache:6380");
    expect(config.salesforce.loginUrl).to.equal("https://test.salesforce.com");
  });

  it("never puts a secret value into the error message", () => {
    const message = configError(() =>
      loadConfig("worker", { ...production, SALESFORCE_CLIENT_SECRET: "topsecretvalue", PORT: "-1" }),
    );
    expect(message).to.include("PORT").and.not.include("topsecretvalue");
  });

  describe("events from everywhere", () => {
    const destination = "aws.partner/stripe.com/ed_61SyncDestination";

    it("runs the worker alone, without a webhook secret (the web role switched off, events from EventBridge)", () => {
      const { STRIPE_WEBHOOK_SECRET: _s, ...worker } = production;
      const config = loadConfig("worker", {
        ...worker,
        EVENTBRIDGE_SOURCES: destination,
        EVENTBRIDGE_AWS_ACCOUNTS: "123456789012",
      });
      expect(config.eventBridge).to.deep.equal({ sources: [destination], awsAccounts: ["123456789012"] });
    });

    it("accepts no EventBridge envelope and both modes by default", () => {
      const config = loadConfig("worker", production);
      expect(config.eventBridge).to.deep.equal({ sources: [], awsAccounts: [] });
      expect(config.stripe.eventMode).to.equal("both");
    });

    it("reads comma-separated destinations and accounts, and the mode restriction", () => {
      const config = loadConfig("worker", {
        ...production,
        EVENTBRIDGE_SOURCES: ` ${destination}, aws.partner/stripe.com/ed_test_61Other `,
        EVENTBRIDGE_AWS_ACCOUNTS: "123456789012,210987654321",
        STRIPE_EVENT_MODE: "live",
      });
      expect(config.eventBridge.sources).to.deep.equal([
        destination,
        "aws.partner/stripe.com/ed_test_61Other",
      ]);
      expect(config.eventBridge.awsAccounts).to.deep.equal(["123456789012", "210987654321"]);
      expect(config.stripe.eventMode).to.equal("live");
    });

    it("refuses a source that is not a Stripe event destination's, and an account that is not 12 digits", () => {
      const message = configError(() =>
        loadConfig("worker", {
          ...production,
          EVENTBRIDGE_SOURCES: "aws.ec2",
          EVENTBRIDGE_AWS_ACCOUNTS: "1234",
        }),
      );
      expect(message)
        .to.include("EVENTBRIDGE_SOURCES")
        .and.include("aws.partner/stripe.com/<destination id>");
      expect(message).to.include("EVENTBRIDGE_AWS_ACCOUNTS").and.include("12-digit");
    });

    it("refuses one EventBridge list without the other, which would dead-letter every envelope", () => {
      expect(
        configError(() => loadConfig("worker", { ...production, EVENTBRIDGE_SOURCES: destination })),
      ).to.include("EVENTBRIDGE_AWS_ACCOUNTS: required with EVENTBRIDGE_SOURCES");
      expect(
        configError(() => loadConfig("worker", { ...production, EVENTBRIDGE_AWS_ACCOUNTS: "123456789012" })),
      ).to.include("EVENTBRIDGE_SOURCES: required with EVENTBRIDGE_AWS_ACCOUNTS");
    });

    it("refuses a mode other than both, live or test", () => {
      expect(
        configError(() => loadConfig("worker", { ...production, STRIPE_EVENT_MODE: "prod" })),
      ).to.include("STRIPE_EVENT_MODE");
    });
  });
});

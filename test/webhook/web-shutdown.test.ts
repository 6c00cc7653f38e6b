import { expect } from "chai";
import { loadConfig } from "../../src/config/config.js";
import { createSqsClient } from "../../src/data-access/sqs/create-sqs-client.js";
import { buildWebhook } from "../../src/roles/build-webhook.js";
import { startWebhook } from "../../src/roles/start-webhook.js";
import { createLogger } from "../../src/shared/logger.js";
import { createMetrics } from "../../src/shared/metrics.js";
import { makeEvent, signPayload } from "../support/signing.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";

const SECRET = "whsec_shutdown_test";

describe("webhook role shutdown", () => {
  let sqsServer: SqsServer;

  before(async () => {
    sqsServer = await startSqsServer();
  });
  after(() => sqsServer?.stop());

  it("during its drain delay answers readiness 503 but still takes webhooks, then stops listening", async () => {
    const { queueUrl } = await sqsServer.createQueue(`shutdown-${Date.now()}`);
    const config = loadConfig("web", {
      PORT: "0",
      STRIPE_WEBHOOK_SECRET: SECRET,
      SQS_QUEUE_URL: queueUrl,
      WEB_DRAIN_DELAY_SECONDS: "2",
    });
    const sqs = createSqsClient({ region: "us-east-1", endpoint: sqsServer.endpoint });
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    const logger = createLogger({ silent: true });
    const stack = buildWebhook({ config, sqs, metrics: createMetrics({ collectDefaults: false }), logger });
    const web = await startWebhook(stack, config, logger);
    const base = `http://127.0.0.1:${web.port}`;
    expect((await fetch(`${base}/health/ready`)).status).to.equal(200);

    const stopped = web.stop();
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { status: string }).status).to.equal("draining");
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_drain", object: "customer" }));
    const accepted = await fetch(`${base}/webhook/stripe`, {
      method: "POST",
      headers: { "stripe-signature": signPayload(payload, SECRET), "content-type": "application/json" },
      body: payload,
    });
    expect(accepted.status).to.equal(200);

    await stopped;
    let refused = false;
    try {
      await fetch(`${base}/health/live`);
    } catch {
      refused = true;
    }
    expect(refused, "the listener is closed after the drain").to.equal(true);
    sqs.destroy();
  });
});

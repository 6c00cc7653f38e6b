import { execFileSync } from "node:child_process";
import { expect } from "chai";
import { ReceiveMessageCommand, SetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createSqsClient } from "../../src/data-access/sqs/create-sqs-client.js";
import type { Metrics } from "../../src/shared/metrics.js";
import { loadThinEvent } from "../support/eventbridge.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { makeEvent, signPayload } from "../support/signing.js";
import { startTestWebhook, type TestWebhook } from "./support/test-webhook.js";

const SECRET = "whsec_test_primary";
const ROTATED = "whsec_test_rotated";

describe("POST /webhook/stripe against a real SQS-compatible server", () => {
  let sqsServer: SqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let web: TestWebhook;
  let baseUrl: string;
  let metrics: Metrics;

  async function receiveAll(max = 10) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    return answer.Messages ?? [];
  }

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    web.post(body, undefined, headers);

  before(async () => {
    sqsServer = await startSqsServer();
    ({ queueUrl } = await sqsServer.createQueue(`ingest-${Date.now()}`));
    sqs = createSqsClient({ region: "us-east-1", endpoint: sqsServer.endpoint });
    web = await startTestWebhook(sqsServer, queueUrl, { STRIPE_WEBHOOK_SECRET: `${SECRET},${ROTATED}` });
    ({ baseUrl, metrics } = web);
  });

  after(async () => {
    await web?.stop();
    sqs?.destroy();
    await sqsServer?.stop();
  });

  it("a signed event gets 200 and exactly one message whose body is the event, byte for byte", async () => {
    const payload = JSON.stringify(
      makeEvent("customer.updated", { id: "cus_ingest1", object: "customer" }),
      null,
      2,
    );
    const response = await post(payload, {
      "stripe-signature": signPayload(payload, SECRET),
      "x-request-id": "req-abc-1",
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get("x-request-id")).to.equal("req-abc-1");
    const messages = await receiveAll();
    expect(messages).to.have.length(1);
    const [message] = messages;
    expect(message?.Body).to.equal(payload);
    const event = JSON.parse(payload) as { id: string };
    expect(message?.MessageAttributes?.event_id?.StringValue).to.equal(event.id);
    expect(message?.MessageAttributes?.event_type?.StringValue).to.equal("customer.updated");
    expect(message?.MessageAttributes?.correlation_id?.StringValue).to.equal("req-abc-1");
  });

  it("accepts a signature made with the second configured secret (rotation)", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_rot", object: "customer" }));
    const response = await post(payload, { "stripe-signature": signPayload(payload, ROTATED) });
    expect(response.status).to.equal(200);
    expect(await receiveAll()).to.have.length(1);
  });

  it("accepts a header carrying several v1 signatures when one of them matches", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_multi", object: "customer" }));
    const timestamp = Math.floor(Date.now() / 1000);
    const good = signPayload(payload, SECRET, timestamp)
      .split(",")
      .find((part) => part.startsWith("v1="));
    const header = `t=${timestamp},v1=${"0".repeat(64)},${good}`;
    const response = await post(payload, { "stripe-signature": header });
    expect(response.status).to.equal(200);
    expect(await receiveAll()).to.have.length(1);
  });

  it("refuses a tampered body with 400 and a reason, and enqueues nothing", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_t", object: "customer" }));
    const header = signPayload(payload, SECRET);
    const response = await post(payload.replace("cus_t", "cus_x"), { "stripe-signature": header });
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("no_matching_signature");
    expect(await receiveAll()).to.have.length(0);
  });

  it("refuses a missing Stripe-Signature header with 400", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_m", object: "customer" }));
    const response = await post(payload);
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("missing_signature");
  });

  it("refuses a signature made with an unknown secret with 400", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_u", object: "customer" }));
    const response = await post(payload, { "stripe-signature": signPayload(payload, "whsec_someone_else") });
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("no_matching_signature");
  });

  it("refuses a header without a timestamp or v1 signature with 400", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_h", object: "customer" }));
    const response = await post(payload, { "stripe-signature": "garbage" });
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("malformed_signature");
  });

  it("refuses a 10-minute-old timestamp with 400 even when the signature matches", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_old", object: "customer" }));
    const tenMinutesAgo = Math.floor(Date.now() / 1000) - 600;
    const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET, tenMinutesAgo) });
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("timestamp_outside_tolerance");
    expect(await receiveAll()).to.have.length(0);
  });

  it("refuses a correctly signed body that is not JSON with 400", async () => {
    const payload = "this is not json";
    const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET) });
    expect(response.status).to.equal(400);
    expect(response.json.error).to.equal("invalid_event");
  });

  it("refuses correctly signed JSON that is not an event with 400 naming what is missing", async () => {
    const payload = JSON.stringify({ hello: "world" });
    const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET) });
    expect(response.status).to.equal(400);
    expect(String(response.json.message)).to.include("id").and.include("data.object");
  });

  it("refuses a 2 MiB body with 413", async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, "a");
    const response = await post(big, { "stripe-signature": signPayload(big.toString(), SECRET) });
    expect(response.status).to.equal(413);
  });

  it("acknowledges an event type without a handler with 200 and does not queue it", async () => {
    const payload = JSON.stringify(makeEvent("invoice.finalized", { id: "in_1", object: "invoice" }));
    const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET) });
    expect(response.status).to.equal(200);
    expect(response.json.outcome).to.equal("ignored");
    expect(await receiveAll()).to.have.length(0);
  });

  it("queues a thin event (event destination, v2.core.event) of a synced type as signed, by the type it stands for", async () => {
    const payload = JSON.stringify(loadThinEvent("v1.customer.updated"), null, 2);
    const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET) });
    expect(response.status).to.equal(200);
    expect(response.json.outcome).to.equal("accepted");
    const [message, ...others] = await receiveAll();
    expect(others).to.have.length(0);
    expect(message?.Body).to.equal(payload);
    expect(message?.MessageAttributes?.event_type?.StringValue).to.equal("customer.updated");
    expect(message?.MessageAttributes?.event_id?.StringValue).to.equal(
      "evt_test_65RfThinCus0001Qx4ABcDeFgHiJkLmNoPqRsTuVwXyZ",
    );
  });

  it("acknowledges a thin event of a type not synced with 200, and refuses one without its created with 400", async () => {
    const meter = JSON.stringify(
      loadThinEvent("v1.customer.updated", { type: "v1.billing.meter.error_report_triggered" }),
    );
    const ignored = await post(meter, { "stripe-signature": signPayload(meter, SECRET) });
    expect(ignored.status).to.equal(200);
    expect(ignored.json.outcome).to.equal("ignored");
    const broken = JSON.stringify(loadThinEvent("v1.customer.updated", { created: 1735693200 }));
    const refused = await post(broken, { "stripe-signature": signPayload(broken, SECRET) });
    expect(refused.status).to.equal(400);
    expect(String(refused.json.message)).to.include("ISO 8601 created");
    expect(await receiveAll()).to.have.length(0);
  });

  it("counts a client that closes before its whole body arrived, queues nothing, and keeps serving", async () => {
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_cut", object: "customer" }));
    const before = await web.count("incomplete_body");
    const head =
      `POST /webhook/stripe HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Stripe-Signature: ${signPayload(payload, SECRET)}\r\nContent-Length: ${payload.length}\r\n\r\n`;
    // In a process of its own: nock, loaded by other suites of this run, would stand in for a socket
    // opened here.
    const client =
      `const s = require("node:net").connect(${new URL(baseUrl).port}, "127.0.0.1", () => {` +
      ` s.write(process.argv[1]); setTimeout(() => s.destroy(), 50); });`;
    execFileSync(process.execPath, ["-e", client, head + payload.slice(0, 40)]);
    for (let i = 0; i < 50 && (await web.count("incomplete_body")) === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await web.count("incomplete_body")).to.equal(before + 1);
    expect(await receiveAll()).to.have.length(0);
    const next = JSON.stringify(makeEvent("customer.updated", { id: "cus_after_cut", object: "customer" }));
    expect((await post(next, { "stripe-signature": signPayload(next, SECRET) })).status).to.equal(200);
    expect(await receiveAll()).to.have.length(1);
  });

  it("coalesces concurrent requests into SendMessageBatch calls and every request still gets its 200", async () => {
    const before = await metrics.enqueueBatchSize.get();
    const beforeCount =
      before.values.find((v) => v.metricName === "sqs_enqueue_batch_size_count")?.value ?? 0;
    const payloads = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify(
        makeEvent("payment_intent.succeeded", { id: `pi_${i}`, object: "payment_intent", customer: "cus_c" }),
      ),
    );
    const responses = await Promise.all(
      payloads.map((p) => post(p, { "stripe-signature": signPayload(p, SECRET) })),
    );
    expect(responses.map((r) => r.status)).to.deep.equal(payloads.map(() => 200));
    const after = await metrics.enqueueBatchSize.get();
    const afterCount = after.values.find((v) => v.metricName === "sqs_enqueue_batch_size_count")?.value ?? 0;
    expect(afterCount - beforeCount).to.be.lessThan(20);
    const bodies = new Set<string>();
    for (let i = 0; i < 5 && bodies.size < 20; i++)
      for (const m of await receiveAll()) bodies.add(m.Body ?? "");
    expect(bodies).to.have.lengthOf(20);
  });

  it("a partial batch failure fails only the request whose message SQS refused", async () => {
    // The queue's limit is lowered after the webhook read it: the webhook still sends a 2 KiB event,
    // which SQS refuses on its own (moto refuses the whole call, so there every request gets 503).
    const { queueUrl: shrinking } = await sqsServer.createQueue(`shrinking-${Date.now()}`);
    const shrinkingWeb = await startTestWebhook(sqsServer, shrinking, { STRIPE_WEBHOOK_SECRET: SECRET });
    try {
      const first = JSON.stringify(makeEvent("customer.updated", { id: "cus_first", object: "customer" }));
      expect((await shrinkingWeb.post(first, signPayload(first, SECRET))).status).to.equal(200);
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: shrinking, Attributes: { MaximumMessageSize: "1024" } }),
      );
      const refused = JSON.stringify(
        makeEvent("customer.updated", { id: "cus_big", object: "customer", description: "x".repeat(2048) }),
      );
      const fine = Array.from({ length: 4 }, (_, i) =>
        JSON.stringify(makeEvent("customer.updated", { id: `cus_ok${i}`, object: "customer" })),
      );
      const all = [fine[0]!, fine[1]!, refused, fine[2]!, fine[3]!];
      const responses = await Promise.all(all.map((p) => shrinkingWeb.post(p, signPayload(p, SECRET))));
      if (process.env.SQS_TEST_SERVER === "moto") {
        expect(responses[2]?.status).to.equal(503);
        return;
      }
      expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 503, 200, 200]);
      expect(await shrinkingWeb.count("enqueue_rejected")).to.equal(1);
    } finally {
      await shrinkingWeb.stop();
    }
  });

  it("/metrics shows webhook counters by event type and outcome", async () => {
    const response = await fetch(`${baseUrl}/metrics`);
    const text = await response.text();
    expect(text).to.match(/stripe_webhooks_total\{event_type="customer.updated",outcome="accepted"\} \d+/);
    expect(text).to.match(/stripe_webhooks_total\{event_type="unknown",outcome="invalid_signature"\} \d+/);
    expect(text).to.include("sqs_enqueue_duration_seconds_bucket");
  });

  it("/health/ready is 200 with SQS up", async () => {
    const response = await fetch(`${baseUrl}/health/ready`);
    expect(response.status).to.equal(200);
    const body = (await response.json()) as { dependencies: Record<string, { status: string }> };
    expect(body.dependencies.sqs?.status).to.equal("up");
  });

  describe("with the queue server stopped", () => {
    before(async () => {
      await sqsServer.stop();
    });

    it("answers 503 to a signed event, never 2xx", async () => {
      const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_down", object: "customer" }));
      const response = await post(payload, { "stripe-signature": signPayload(payload, SECRET) });
      expect(response.status).to.equal(503);
      expect(response.json.error).to.equal("enqueue_failed");
    });

    it("/health/ready answers 503 and names the failed dependency", async () => {
      const response = await fetch(`${baseUrl}/health/ready`);
      expect(response.status).to.equal(503);
      const body = (await response.json()) as {
        dependencies: Record<string, { status: string; detail?: string }>;
      };
      expect(body.dependencies.sqs?.status).to.equal("down");
      expect(body.dependencies.sqs?.detail).to.be.a("string").and.not.equal("");
    });

    it("/health/live still answers 200: the process is alive", async () => {
      expect((await fetch(`${baseUrl}/health/live`)).status).to.equal(200);
    });
  });
});

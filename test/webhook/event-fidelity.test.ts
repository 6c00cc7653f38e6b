import { randomBytes } from "node:crypto";
import { expect } from "chai";
import {
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createSqsClient } from "../../src/data-access/sqs/create-sqs-client.js";
import { holdMessage } from "../../src/entry-points/worker/held-message.js";
import { createLogger } from "../../src/shared/logger.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { signPayload } from "../support/signing.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { startTestWebhook, type TestWebhook } from "./support/test-webhook.js";

const SECRET = "whsec_fidelity";
const log = createLogger({ silent: true });
const isMoto = process.env.SQS_TEST_SERVER === "moto";

/** A customer.updated event as Stripe pretty-prints it, with `fields` merged into the customer. */
function customerEvent(id: string, fields: Record<string, unknown>): string {
  const event = loadEvent("customer.updated", { id, object: fields });
  return JSON.stringify(event, null, 2);
}

/** Random text that gzip cannot shrink much: base64 of random bytes. */
const incompressible = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4)).toString("base64");

describe("what the worker reads from the queue is what Stripe signed (real HTTP, real SQS-compatible server)", function () {
  this.timeout(60_000);
  let sqsServer: SqsServer;
  let sqs: SQSClient;

  before(async () => {
    sqsServer = await startSqsServer();
    sqs = createSqsClient({ region: "us-east-1", endpoint: sqsServer.endpoint });
  });
  after(async () => {
    sqs?.destroy();
    await sqsServer?.stop();
  });

  /** A fresh queue (of `maxMessageBytes` when given) and a webhook role writing to it. */
  async function webhookOn(
    maxMessageBytes?: number,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ web: TestWebhook; queueUrl: string }> {
    const { queueUrl } = await sqsServer.createQueue(
      `fidelity-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    );
    if (maxMessageBytes !== undefined) {
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { MaximumMessageSize: String(maxMessageBytes) },
        }),
      );
    }
    return {
      web: await startTestWebhook(sqsServer, queueUrl, { STRIPE_WEBHOOK_SECRET: SECRET, ...env }),
      queueUrl,
    };
  }

  async function receiveOne(queueUrl: string): Promise<Message> {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    expect(Messages, "messages on the queue").to.have.length(1);
    return Messages![0]!;
  }

  /** Posts the signed payload, expects 200, and returns the message as the worker holds it. */
  async function sendThroughQueue(web: TestWebhook, queueUrl: string, payload: string) {
    const answer = await web.post(payload, signPayload(payload, SECRET));
    expect(answer.status, JSON.stringify(answer.json)).to.equal(200);
    const message = await receiveOne(queueUrl);
    return { message, held: holdMessage(message, log, Date.now()) };
  }

  describe("characters SQS refuses", () => {
    let web: TestWebhook;
    let queueUrl: string;
    before(async () => ({ web, queueUrl } = await webhookOn()));
    after(() => web?.stop());

    it("the queue server itself refuses U+FFFF in a body, so the cases below are real", async function () {
      // moto stores any character; fauxqs (the default) refuses what AWS refuses.
      if (isMoto) this.skip();
      let refused = false;
      try {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"name":"a\uffffb"}' }));
      } catch {
        refused = true;
      }
      expect(refused).to.equal(true);
    });

    const cases: [string, string][] = [
      ["U+FFFF and U+FFFE in a customer's name", "Ada \uffff Lovelace \ufffe"],
      ["characters above U+FFFF (emoji)", "Ada \u{1F600} Lovelace \u{10FFFF}"],
    ];
    for (const [what, name] of cases) {
      it(`an event with ${what} is accepted and parses to the same event`, async () => {
        const payload = customerEvent(`evt_chars_${what.length}`, { name, metadata: { note: name } });
        expect(payload).to.include(name);
        const { message, held } = await sendThroughQueue(web, queueUrl, payload);
        expect(message.MessageAttributes?.body_format).to.equal(undefined);
        expect(held.event).to.deep.equal(JSON.parse(payload));
        expect((held.event!.data.object as { name: string }).name).to.equal(name);
      });
    }

    // A lone surrogate can only arrive as an escape: UTF-8 cannot carry one.
    it("an event whose JSON carries escapes (\\u0000, \\ud800) reaches the worker as the exact string", async () => {
      const payload = customerEvent("evt_escaped", { name: "a\u0000b", description: "x\ud800y" });
      expect(payload).to.include("\\u0000").and.include("\\ud800");
      const { message, held } = await sendThroughQueue(web, queueUrl, payload);
      expect(message.Body).to.equal(payload);
      expect(held.event).to.deep.equal(JSON.parse(payload));
    });

    it("an event without special characters reaches the worker as the exact string Stripe signed", async () => {
      const payload = customerEvent("evt_plain", { name: "Ada Lovelace" });
      const { message, held } = await sendThroughQueue(web, queueUrl, payload);
      expect(message.Body).to.equal(payload);
      expect(held.needsObject).to.equal(false);
    });
  });

  describe("events larger than the queue accepts", () => {
    it("a 1 MiB event on a queue of 1 MiB goes compressed and the worker inflates the exact string", async () => {
      const { web, queueUrl } = await webhookOn(1024 * 1024);
      try {
        const payload = customerEvent("evt_one_mib", { description: "" });
        const padded = payload.replace(
          '"description": ""',
          `"description": "${"ab".repeat(524_288 - payload.length / 2)}"`,
        );
        expect(Buffer.byteLength(padded)).to.be.within(1024 * 1024 - 16, 1024 * 1024);
        const { message, held } = await sendThroughQueue(web, queueUrl, padded);
        expect(message.MessageAttributes?.body_format?.StringValue).to.equal("gzip-base64");
        expect(held.rejection).to.equal(undefined);
        expect(JSON.stringify(held.event, null, 2)).to.equal(padded);
      } finally {
        await web.stop();
      }
    });

    it("a body that fits but not with its attributes goes compressed (the size counts the attributes)", async () => {
      const { web, queueUrl } = await webhookOn(4096);
      try {
        const payload = customerEvent("evt_edge", { description: "" });
        const padded = payload.replace(
          '"description": ""',
          `"description": "${"a".repeat(4090 - payload.length)}"`,
        );
        expect(Buffer.byteLength(padded)).to.equal(4096 - 6);
        const { message, held } = await sendThroughQueue(web, queueUrl, padded);
        expect(message.MessageAttributes?.body_format?.StringValue).to.equal("gzip-base64");
        expect(held.event).to.deep.equal(JSON.parse(padded));
      } finally {
        await web.stop();
      }
    });

    it("too large even compressed, with a Stripe API key: a slimmed envelope the worker must complete", async () => {
      const { web, queueUrl } = await webhookOn(4096, { STRIPE_API_KEY: "sk_test_slim" });
      try {
        const payload = customerEvent("evt_slim", { metadata: { blob: incompressible(8000) } });
        const { message, held } = await sendThroughQueue(web, queueUrl, payload);
        expect(message.MessageAttributes?.body_format?.StringValue).to.equal("slim-envelope");
        expect(held.needsObject).to.equal(true);
        const original = JSON.parse(payload) as Record<string, unknown>;
        expect(held.event).to.deep.equal({
          id: original.id,
          object: "event",
          type: original.type,
          created: original.created,
          livemode: original.livemode,
          api_version: original.api_version,
          data: { object: { id: "cus_RnQk1aB2cD3eF4", object: "customer" } },
        });
      } finally {
        await web.stop();
      }
    });

    it("too large even compressed and no Stripe API key: 503, counted as enqueue_rejected, nothing queued", async () => {
      const { web, queueUrl } = await webhookOn(4096);
      try {
        const payload = customerEvent("evt_rejected", { metadata: { blob: incompressible(8000) } });
        const answer = await web.post(payload, signPayload(payload, SECRET));
        expect(answer.status).to.equal(503);
        expect(answer.headers.get("retry-after")).to.equal("5");
        expect(await web.count("enqueue_rejected")).to.equal(1);
        const { Messages } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }),
        );
        expect(Messages ?? []).to.have.length(0);
      } finally {
        await web.stop();
      }
    });
  });
});

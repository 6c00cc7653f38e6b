import type { Message } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { attributeBytes, encodeEventMessage } from "../../src/domain/ingest/queue-message-codec.js";
import { parseStripeEvent } from "../../src/domain/ingest/parse-stripe-event.js";
import { buildDeadLetterMessage } from "../../src/entry-points/worker/dead-letter.js";
import { holdMessage } from "../../src/entry-points/worker/held-message.js";
import { createLogger } from "../../src/shared/logger.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";

const TRACE = {
  traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  tracestate: "vendor=opaque-value",
};

describe("tracing: the trace context on the queue message", () => {
  const json = JSON.stringify(loadEvent("customer.subscription.updated"));
  const raw = Buffer.from(json);
  const envelope = parseStripeEvent(json);
  const encode = (maxMessageBytes: number) =>
    encodeEventMessage({
      raw,
      json,
      envelope,
      correlationId: "corr-1",
      traceAttributes: TRACE,
      maxMessageBytes,
      canSlim: true,
    });

  it("rides as traceparent and tracestate, counted in the size SQS checks", async () => {
    const message = await encode(1024 * 1024);
    expect(message?.attributes).to.include(TRACE);
    expect(message?.sizeBytes).to.equal(raw.length + attributeBytes(message!.attributes));
  });

  it("an event that fits only without its trace context goes compressed rather than over the limit", async () => {
    const withoutTrace =
      raw.length +
      attributeBytes({ event_id: envelope.id, event_type: envelope.type, correlation_id: "corr-1" });
    const message = await encode(withoutTrace);
    expect(message?.format).to.equal("gzip-base64");
    expect(message!.sizeBytes).to.be.at.most(withoutTrace);
  });

  it("the fullest message, dead-lettered, keeps its trace context within SQS's ten attributes", async () => {
    const slim = await encode(600);
    expect(slim?.format).to.equal("slim-envelope");
    expect(Object.keys(slim!.attributes)).to.have.length(6);
    const received: Message = {
      MessageId: "msg-1",
      ReceiptHandle: "rh-1",
      Body: slim!.body,
      Attributes: { ApproximateReceiveCount: "1" },
      MessageAttributes: Object.fromEntries(
        Object.entries(slim!.attributes).map(([name, value]) => [
          name,
          { DataType: "String", StringValue: value },
        ]),
      ),
    };
    const dead = buildDeadLetterMessage(
      "http://sqs/000000000000/q-dlq",
      holdMessage(received, createLogger({ silent: true }), 0),
      {
        reason: "object_gone",
        detail: "Stripe no longer has the object",
      },
    );
    expect(Object.keys(dead.MessageAttributes ?? {})).to.have.length(10);
    expect(dead.MessageAttributes?.traceparent?.StringValue).to.equal(TRACE.traceparent);
    expect(dead.MessageAttributes?.tracestate?.StringValue).to.equal(TRACE.tracestate);
  });
});

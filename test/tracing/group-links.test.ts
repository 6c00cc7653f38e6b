import type { Message } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { MessageTracing } from "../../src/entry-points/worker/message-tracing.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Tracing } from "../../src/shared/tracing.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { otelEnv, startTestTracing } from "./support/traced-process.js";

const QUEUE_URL = "http://127.0.0.1:4566/000000000000/stripe-events";

/** `count` received messages of distinct customer events. */
function receivedMessages(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    MessageId: `msg-${i}`,
    ReceiptHandle: `rh-${i}`,
    Body: JSON.stringify(
      loadEvent("customer.updated", { id: `evt_link_${i}`, object: { id: `cus_link_${i}` } }),
    ),
    Attributes: { ApproximateReceiveCount: "1" },
    MessageAttributes: {},
  }));
}

describe("tracing: a group span links every message it holds", function () {
  this.timeout(30_000);
  const logger = createLogger({ silent: true });
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let stop: () => Promise<void>;

  before(async () => {
    receiver = await startOtlpReceiver();
    // A worker whose groups hold up to 1000 messages: the SDK keeps that many links per span.
    ({ tracing, stop } = await startTestTracing(otelEnv(receiver), { logger, maxGroupSize: 1000 }));
  });
  after(async () => {
    await stop?.();
    await receiver?.stop();
  });
  afterEach(() => receiver.clear());

  /** Holds `count` messages, runs one group over them, settles them, and answers the spans exported. */
  async function syncOneGroup(messageTracing: MessageTracing, count: number) {
    const held = receivedMessages(count).map((message) =>
      messageTracing.holdMessage(message, logger, Date.now()),
    );
    await messageTracing.traceGroups(async () => {})(held);
    for (const message of held) message.markSettled();
    await new Promise((resolve) => setImmediate(resolve));
    await tracing.flush();
    return receiver.waitForSpans(
      (spans) => spans.filter((span) => span.name.startsWith("process ")).length === count,
      `${count} message spans`,
    );
  }

  it("200 messages: all 200 links are kept, past the SDK's default limit of 128", async () => {
    expect(tracing.linkLimit).to.equal(1000);
    const spans = await syncOneGroup(new MessageTracing(tracing, QUEUE_URL), 200);
    const groups = spans.filter((span) => span.name.startsWith("sync group"));
    expect(groups.map((span) => span.name)).to.deep.equal(["sync group"]);
    const processes = spans.filter((span) => span.name === "process stripe-events");
    expect(groups[0]!.links.map((link) => link.spanId).sort()).to.deep.equal(
      processes.map((span) => span.spanId).sort(),
    );
  });

  it("a group larger than the limit spreads its links over `sync group links` spans, so none is lost", async () => {
    const spans = await syncOneGroup(new MessageTracing({ ...tracing, linkLimit: 10 }, QUEUE_URL), 25);
    const group = spans.find((span) => span.name === "sync group")!;
    const overflow = spans.filter((span) => span.name === "sync group links");
    expect(group.links).to.have.length(10);
    expect(overflow.map((span) => span.links.length).sort()).to.deep.equal([10, 5]);
    for (const span of overflow)
      expect(span).to.include({ traceId: group.traceId, parentSpanId: group.spanId });
    const linked = [group, ...overflow].flatMap((span) =>
      span.links.map((link) => link.attributes["stripe.event.id"]),
    );
    expect(new Set(linked)).to.deep.equal(new Set(Array.from({ length: 25 }, (_, i) => `evt_link_${i}`)));
  });
});

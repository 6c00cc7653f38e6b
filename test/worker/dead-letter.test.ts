import { expect } from "chai";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import {
  MAX_DETAIL_LENGTH,
  buildDeadLetterMessage,
  discoverDeadLetterQueueUrl,
} from "../../src/entry-points/worker/dead-letter.js";
import { holdMessage } from "../../src/entry-points/worker/held-message.js";
import { createLogger } from "../../src/shared/logger.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { customerUpdated } from "./worker-harness.js";

const received = (overrides: Partial<Message> = {}): Message => ({
  MessageId: "msg-1",
  ReceiptHandle: "rh-1",
  Body: JSON.stringify(customerUpdated("evt_parked")),
  Attributes: { ApproximateReceiveCount: "3" },
  MessageAttributes: { correlation_id: { DataType: "String", StringValue: "corr-1" } },
  ...overrides,
});

describe("worker: dead-letter messages", () => {
  const logger = createLogger({ silent: true });

  it("keep the body and attributes and add the reason, a truncated detail, the source id and receive count", () => {
    const message = holdMessage(received(), logger, 0);
    const input = buildDeadLetterMessage("http://sqs/000000000000/q-dlq", message, {
      reason: "STRING_TOO_LONG",
      detail: "x".repeat(5000),
    });
    expect(input.MessageBody).to.equal(received().Body);
    expect(input.MessageAttributes?.correlation_id?.StringValue).to.equal("corr-1");
    expect(input.MessageAttributes?.dlq_reason?.StringValue).to.equal("STRING_TOO_LONG");
    expect(input.MessageAttributes?.dlq_detail?.StringValue).to.have.length(MAX_DETAIL_LENGTH);
    expect(input.MessageAttributes?.dlq_source_message_id?.StringValue).to.equal("msg-1");
    expect(input.MessageAttributes?.dlq_receive_count?.StringValue).to.equal("3");
    expect(input.MessageGroupId).to.equal(undefined);
  });

  it("stay within the 10 attributes SQS allows", () => {
    const many = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`attr_${i}`, { DataType: "String", StringValue: String(i) }]),
    );
    const input = buildDeadLetterMessage(
      "http://sqs/q-dlq",
      holdMessage(received({ MessageAttributes: many }), logger, 0),
      {
        reason: "r",
        detail: "d",
      },
    );
    expect(Object.keys(input.MessageAttributes ?? {})).to.have.length(10);
    expect(input.MessageAttributes?.dlq_reason?.StringValue).to.equal("r");
  });

  it("to a FIFO dead-letter queue carry a group and a deduplication id", () => {
    const input = buildDeadLetterMessage("http://sqs/q-dlq.fifo", holdMessage(received(), logger, 0), {
      reason: "r",
      detail: "d",
    });
    expect(input.MessageGroupId).to.equal("evt_parked");
    expect(input.MessageDeduplicationId).to.equal("msg-1");
  });

  describe("queue discovery against a real SQS-compatible server", function () {
    this.timeout(30_000);
    let server: SqsServer;
    let sqs: SQSClient;
    before(async () => {
      server = await startSqsServer();
      sqs = server.client();
    });
    after(async () => {
      sqs.destroy();
      await server.stop();
    });

    it("finds the dead-letter queue named by the queue's RedrivePolicy", async () => {
      const { queueUrl, dlqUrl } = await server.createQueue("discover", {
        deadLetter: { maxReceiveCount: 4 },
      });
      expect(await discoverDeadLetterQueueUrl(sqs, queueUrl)).to.equal(dlqUrl);
    });

    it("finds none for a queue without a RedrivePolicy", async () => {
      const { queueUrl } = await server.createQueue("no-redrive");
      expect(await discoverDeadLetterQueueUrl(sqs, queueUrl)).to.equal(undefined);
    });
  });
});

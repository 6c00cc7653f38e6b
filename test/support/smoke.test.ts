import { expect } from "chai";
import { ListQueuesCommand } from "@aws-sdk/client-sqs";
import { Redis } from "ioredis";
import { startRedisServer } from "./redis-server.js";
import { startSqsServer } from "./sqs-server.js";

describe("test servers", () => {
  it("a real fauxqs and a real redis-server start and answer", async () => {
    const [sqs, redis] = await Promise.all([startSqsServer(), startRedisServer()]);
    try {
      const { queueUrl, dlqUrl } = await sqs.createQueue("smoke", { deadLetter: { maxReceiveCount: 3 } });
      const listed = await sqs.client().send(new ListQueuesCommand({}));
      expect(listed.QueueUrls).to.include(queueUrl).and.include(dlqUrl);
      const client = new Redis(redis.url);
      expect(await client.ping()).to.equal("PONG");
      client.disconnect();
    } finally {
      await Promise.all([sqs.stop(), redis.stop()]);
    }
  });
});

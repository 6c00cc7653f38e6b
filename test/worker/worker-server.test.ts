import { expect } from "chai";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { queueReadinessCheck } from "../../src/data-access/sqs/queue-readiness-check.js";
import { startWorkerServer, type RunningWorkerServer } from "../../src/entry-points/worker/worker-server.js";
import { createLogger } from "../../src/shared/logger.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { testMetrics } from "./worker-harness.js";

describe("worker: health and metrics server", function () {
  this.timeout(30_000);
  let server: SqsServer;
  let sqs: SQSClient;
  let http: RunningWorkerServer;
  let accepting = true;
  let redisUp = true;
  const url = (path: string) => `http://127.0.0.1:${http.port}${path}`;

  before(async () => {
    server = await startSqsServer();
    sqs = server.client();
    const { queueUrl } = await server.createQueue("worker-health");
    const metrics = testMetrics();
    metrics.receiveBatchSize.observe(10);
    http = await startWorkerServer({
      metrics,
      checks: [
        queueReadinessCheck(sqs, queueUrl),
        {
          name: "redis",
          check: async () => {
            if (!redisUp) throw new Error("connection refused");
          },
        },
      ],
      workState: () => ({ status: accepting ? "ready" : "draining" }),
      port: 0,
      host: "127.0.0.1",
      logger: createLogger({ silent: true }),
    });
  });
  after(async () => {
    await http.stop();
    sqs.destroy();
    await server.stop();
  });

  it("/health/ready is 200 when SQS and the extra checks answer", async () => {
    const response = await fetch(url("/health/ready"));
    expect(response.status).to.equal(200);
    const body = (await response.json()) as {
      role: string;
      dependencies: Record<string, { status: string }>;
    };
    expect(body.role).to.equal("worker");
    expect(body.dependencies.sqs?.status).to.equal("up");
    expect(body.dependencies.redis?.status).to.equal("up");
  });

  it("/health/ready is 503 naming an extra check that is down", async () => {
    redisUp = false;
    try {
      const response = await fetch(url("/health/ready"));
      expect(response.status).to.equal(503);
      const body = (await response.json()) as { dependencies: Record<string, { status: string }> };
      expect(body.dependencies.redis?.status).to.equal("down");
    } finally {
      redisUp = true;
    }
  });

  it("/health/ready is 503 while the worker drains", async () => {
    accepting = false;
    try {
      const response = await fetch(url("/health/ready"));
      expect(response.status).to.equal(503);
      expect(((await response.json()) as { status: string }).status).to.equal("draining");
    } finally {
      accepting = true;
    }
  });

  it("/metrics exposes the worker's metrics in Prometheus text format", async () => {
    const response = await fetch(url("/metrics"));
    expect(response.status).to.equal(200);
    const text = await response.text();
    expect(text).to.match(/^sqs_receive_batch_size_count 1$/m);
    expect(text).to.include("sync_messages_in_flight");
  });

  describe("with the queue server stopped", () => {
    before(async () => server.stop());

    it("/health/ready is 503 and names sqs as down, while /health/live stays 200", async () => {
      const ready = await fetch(url("/health/ready"));
      expect(ready.status).to.equal(503);
      const body = (await ready.json()) as { dependencies: Record<string, { status: string }> };
      expect(body.dependencies.sqs?.status).to.equal("down");
      expect((await fetch(url("/health/live"))).status).to.equal(200);
    });
  });
});

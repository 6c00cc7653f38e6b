import { loadConfig } from "../../../src/config/config.js";
import { createSqsClient } from "../../../src/data-access/sqs/create-sqs-client.js";
import { buildWebhook } from "../../../src/roles/build-webhook.js";
import { startWebhook } from "../../../src/roles/start-webhook.js";
import { createLogger, type Logger } from "../../../src/shared/logger.js";
import { createMetrics, type Metrics } from "../../../src/shared/metrics.js";
import type { SqsServer } from "../../support/sqs-server.js";

/** A webhook answer, its body parsed when it is JSON. */
export interface WebhookAnswer {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

/** The webhook role built by its composition root and listening on a free port. */
export interface TestWebhook {
  baseUrl: string;
  metrics: Metrics;
  /** POSTs `body` to /webhook/stripe with this Stripe-Signature (and more headers). */
  post(body: string | Buffer, signature?: string, headers?: Record<string, string>): Promise<WebhookAnswer>;
  /** `stripe_webhooks_total` summed over event types, for one outcome. */
  count(outcome: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Builds and starts the webhook role as `node dist/main.js web` does, on `queueUrl` of `sqsServer`,
 * with the environment `env` on top of a local-mode default (any free port).
 */
export async function startTestWebhook(
  sqsServer: SqsServer,
  queueUrl: string,
  env: NodeJS.ProcessEnv,
  logger: Logger = createLogger({ silent: true }),
): Promise<TestWebhook> {
  // Credentials for the SDK's default chain.
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  const config = loadConfig("web", { NODE_ENV: "test", PORT: "0", SQS_QUEUE_URL: queueUrl, ...env });
  const sqs = createSqsClient({ region: "us-east-1", endpoint: sqsServer.endpoint });
  const metrics = createMetrics({ collectDefaults: false });
  const web = await startWebhook(buildWebhook({ config, sqs, metrics, logger }), config, logger);
  const baseUrl = `http://127.0.0.1:${web.port}`;
  return {
    baseUrl,
    metrics,
    async post(body, signature, headers = {}) {
      const response = await fetch(`${baseUrl}/webhook/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(signature === undefined ? {} : { "stripe-signature": signature }),
          ...headers,
        },
        body,
      });
      const text = await response.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON
      }
      return { status: response.status, json, headers: response.headers };
    },
    async count(outcome) {
      const metric = await metrics.webhooks.get();
      return metric.values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
    },
    async stop() {
      await web.stop();
      sqs.destroy();
    },
  };
}

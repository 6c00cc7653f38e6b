import { fileURLToPath } from "node:url";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { freePort, startChild, type ChildServer } from "./child-server.js";

/** A real SQS-compatible server (fauxqs) in its own process, reached over HTTP like AWS. */
export interface SqsServer extends ChildServer {
  endpoint: string;
  /** An SQS client pointed at this server with dummy credentials. */
  client(): SQSClient;
  /** Creates a queue (and, with `deadLetter`, a DLQ wired through RedrivePolicy); returns URLs. */
  createQueue(
    name: string,
    options?: { fifo?: boolean; deadLetter?: { maxReceiveCount: number }; visibilityTimeout?: number },
  ): Promise<{ queueUrl: string; dlqUrl?: string }>;
}

/** Environment for code under test so that the AWS SDK finds this server. */
export function sqsEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
}

/**
 * Starts an SQS-compatible server on a free loopback port (or `port`, to restart one on the same
 * address): fauxqs by default; `SQS_TEST_SERVER=moto` runs the same suites against moto's server
 * (`pip install "moto[server]"`), a second, independent implementation.
 */
export async function startSqsServer(port?: number): Promise<SqsServer> {
  const chosen = port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${chosen}`;
  const child =
    process.env.SQS_TEST_SERVER === "moto"
      ? await startChild(
          process.env.MOTO_SERVER_BIN ?? "moto_server",
          ["-H", "127.0.0.1", "-p", String(chosen)],
          {
            name: "moto_server",
            port: chosen,
            ready: async () => (await fetch(`${endpoint}/moto-api/`)).status < 500,
          },
        )
      : await startChild(
          process.execPath,
          [fileURLToPath(new URL("../../node_modules/fauxqs/dist/cli.js", import.meta.url))],
          {
            name: "fauxqs",
            port: chosen,
            env: { FAUXQS_PORT: String(chosen), FAUXQS_HOST: "localhost", FAUXQS_LOGGER: "false" },
            ready: async () => (await fetch(`${endpoint}/health`)).ok,
          },
        );
  const client = () =>
    new SQSClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
  return {
    ...child,
    endpoint,
    client,
    async createQueue(name, options = {}) {
      const sqs = client();
      const suffix = options.fifo ? ".fifo" : "";
      const fifoAttributes: Record<string, string> = options.fifo ? { FifoQueue: "true" } : {};
      let dlqUrl: string | undefined;
      const attributes: Record<string, string> = { ...fifoAttributes };
      if (options.visibilityTimeout !== undefined)
        attributes.VisibilityTimeout = String(options.visibilityTimeout);
      if (options.deadLetter) {
        const dlq = await sqs.send(
          new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: fifoAttributes }),
        );
        dlqUrl = dlq.QueueUrl;
        const arn = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
        );
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: arn.Attributes?.QueueArn,
          maxReceiveCount: options.deadLetter.maxReceiveCount,
        });
      }
      const queue = await sqs.send(
        new CreateQueueCommand({ QueueName: `${name}${suffix}`, Attributes: attributes }),
      );
      sqs.destroy();
      if (!queue.QueueUrl) throw new Error("CreateQueue returned no QueueUrl");
      return dlqUrl ? { queueUrl: queue.QueueUrl, dlqUrl } : { queueUrl: queue.QueueUrl };
    },
  };
}

/** Visible and in-flight message counts of a queue. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

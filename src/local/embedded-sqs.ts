import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";

/** An SQS-compatible server running inside this process, for local mode only. */
export interface EmbeddedSqs {
  endpoint: string;
  queueUrl: string;
  dlqUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs (an SQS-compatible server; a development dependency, so it is imported only here)
 * on `port` (0: any free port) with a queue `stripe-events` whose redrive policy sends a message
 * to `stripe-events-dlq` after 20 receives (the worker dead-letters permanent failures itself; the
 * redrive policy only catches what kept failing transiently for hours).
 */
export async function startEmbeddedSqs(port = 0): Promise<EmbeddedSqs> {
  const { startFauxqs } = await import("fauxqs");
  const server = await startFauxqs({ port, logger: false, host: "localhost" });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  try {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: "stripe-events-dlq" }));
    const dlqArn = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const queue = await sqs.send(
      new CreateQueueCommand({
        QueueName: "stripe-events",
        Attributes: {
          VisibilityTimeout: "60",
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
            maxReceiveCount: 20,
          }),
        },
      }),
    );
    if (!queue.QueueUrl || !dlq.QueueUrl) throw new Error("the embedded queue server returned no queue URL");
    return { endpoint, queueUrl: queue.QueueUrl, dlqUrl: dlq.QueueUrl, stop: () => server.stop() };
  } finally {
    sqs.destroy();
  }
}

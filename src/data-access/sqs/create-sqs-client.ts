import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * An SQS client whose region, credentials and endpoint (`AWS_ENDPOINT_URL_SQS`) the AWS SDK resolves
 * from its standard sources. Timeouts are bounded so a hung queue turns into a 503, not a hung webhook
 * (the worker's long polls set their own, longer timeout per call).
 */
export function createSqsClient(
  options: {
    region?: string | undefined;
    endpoint?: string;
    /** Static credentials (local mode's embedded queue); default: the AWS SDK's chain. */
    credentials?: { accessKeyId: string; secretAccessKey: string };
  } = {},
  env: NodeJS.ProcessEnv = process.env,
): SQSClient {
  // The SDK otherwise sends each call to its QueueUrl's host, overriding an endpoint that came from
  // AWS_ENDPOINT_URL_SQS; an explicitly configured endpoint is what the operator meant.
  const hasConfiguredEndpoint = Boolean(options.endpoint || env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL);
  return new SQSClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(hasConfiguredEndpoint ? { useQueueUrlAsEndpoint: false } : {}),
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 1000,
      requestTimeout: 5000,
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  });
}

/**
 * Where `sqs` sends calls for `queueUrl`: the endpoint it was given, else `AWS_ENDPOINT_URL_SQS` or
 * `AWS_ENDPOINT_URL`, else the queue URL's own origin, as the SDK client does.
 */
export async function resolveSqsEndpoint(
  sqs: SQSClient,
  queueUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (sqs.config.isCustomEndpoint && sqs.config.endpoint) {
    const { protocol, hostname, port, path } = await sqs.config.endpoint();
    return `${protocol}//${hostname}${port ? `:${port}` : ""}${path === "/" ? "" : path}`;
  }
  return env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || new URL(queueUrl).origin;
}

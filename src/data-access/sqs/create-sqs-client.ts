import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * An SQS client whose region, credentials and endpoint (`AWS_ENDPOINT_URL_SQS`) the AWS SDK resolves
 * from its standard sources. Timeouts are bounded so a hung queue turns into a 503, not a hung webhook.
 */
export function createSqsClient(options: { region?: string | undefined; endpoint?: string } = {}): SQSClient {
  return new SQSClient({
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 5000 },
  });
}

import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/**
 * The size SQS allowed before August 2025 and still the limit of queues created then; assumed when a
 * server does not report MaximumMessageSize (ElasticMQ), so nothing too large for AWS is sent.
 */
export const CLASSIC_MAX_MESSAGE_BYTES = 262_144;

/** Options of `queueSizeLimit`. */
export interface QueueSizeLimitOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** How long a value read from the queue is used before it is read again (default 5 minutes). */
  refreshMs?: number;
  /** Milliseconds clock (default Date.now). */
  now?: () => number;
}

/**
 * The queue's MaximumMessageSize, read with GetQueueAttributes on first use and cached: callers wait
 * once, then get the cached value; after `refreshMs` it is read again in the background, so a raised
 * limit applies without a restart. A failed read is not cached (the next call tries again).
 */
export function queueSizeLimit(options: QueueSizeLimitOptions): () => Promise<number> {
  const refreshMs = options.refreshMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: { value: number; readAt: number } | undefined;
  let reading: Promise<number> | undefined;

  const read = (): Promise<number> => {
    reading ??= options.sqs
      .send(
        new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ["MaximumMessageSize"] }),
        { abortSignal: AbortSignal.timeout(3000) },
      )
      .then((answer) => {
        const reported = Number(answer.Attributes?.MaximumMessageSize);
        const value = Number.isInteger(reported) && reported > 0 ? reported : CLASSIC_MAX_MESSAGE_BYTES;
        cached = { value, readAt: now() };
        return value;
      })
      .finally(() => (reading = undefined));
    return reading;
  };

  return async () => {
    if (!cached) return read();
    if (now() - cached.readAt > refreshMs) read().catch(() => undefined);
    return cached.value;
  };
}

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
  type SendMessageBatchRequestEntry,
} from "@aws-sdk/client-sqs";

/** One dead letter as an operator reads it. */
export interface DeadLetter {
  messageId: string;
  eventId?: string;
  eventType?: string;
  /** `dlq_reason` set by the worker; `redrive_policy` for a message the queue moved after maxReceiveCount receives. */
  reason: string;
  detail?: string;
  /** Receives before it was parked (`dlq_receive_count`, else the message's own count). */
  receiveCount: number;
  /** When it was sent to the dead-letter queue (ISO 8601). */
  sentAt?: string;
  correlationId?: string;
  /** The message as received (its receipt handle is valid while it is held). */
  message: Message;
}

const attribute = (message: Message, name: string) => {
  const value = message.MessageAttributes?.[name]?.StringValue;
  return value === undefined || value === "" ? undefined : value;
};

/** The event in a body, if it is one: its id and type. */
function eventOf(body: string | undefined): { id?: string; type?: string } {
  try {
    const parsed = JSON.parse(body ?? "") as {
      id?: unknown;
      type?: unknown;
      detail?: { id?: unknown; type?: unknown };
    };
    const event = parsed.detail && typeof parsed.detail === "object" ? parsed.detail : parsed;
    return {
      ...(typeof event.id === "string" ? { id: event.id } : {}),
      ...(typeof event.type === "string" ? { type: event.type } : {}),
    };
  } catch {
    return {};
  }
}

/** Reads the worker's `dlq_*` attributes and the event's ids from a received dead letter. */
export function describeDeadLetter(message: Message): DeadLetter {
  const event = eventOf(message.Body);
  const sent = Number(message.Attributes?.SentTimestamp);
  const eventId = attribute(message, "event_id") ?? event.id;
  const eventType = attribute(message, "event_type") ?? event.type;
  const detail = attribute(message, "dlq_detail");
  const correlationId = attribute(message, "correlation_id");
  return {
    messageId: message.MessageId ?? "",
    ...(eventId ? { eventId } : {}),
    ...(eventType ? { eventType } : {}),
    reason: attribute(message, "dlq_reason") ?? "redrive_policy",
    ...(detail ? { detail } : {}),
    receiveCount: Number(
      attribute(message, "dlq_receive_count") ?? message.Attributes?.ApproximateReceiveCount ?? 0,
    ),
    ...(Number.isFinite(sent) && sent > 0 ? { sentAt: new Date(sent).toISOString() } : {}),
    ...(correlationId ? { correlationId } : {}),
    message,
  };
}

/**
 * Receives the queue's messages once each, hiding each for `holdSeconds` so the next receive gets
 * others, and hands every batch of new ones to `onBatch` (which may stop the scan by answering
 * false). Ends when a receive brings nothing new, `limit` messages were seen, or `signal` aborts.
 * Returns every message seen; whatever the caller does not delete it should release.
 */
export async function scanQueue(
  sqs: SQSClient,
  queueUrl: string,
  options: {
    holdSeconds: number;
    limit?: number;
    signal?: AbortSignal;
    onBatch: (messages: Message[]) => Promise<boolean>;
  },
): Promise<Message[]> {
  const seen = new Map<string, Message>();
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  while (seen.size < limit && !options.signal?.aborted) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, limit - seen.size)),
        VisibilityTimeout: options.holdSeconds,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) seen.set(message.MessageId as string, message);
    if (!(await options.onBatch(fresh))) break;
  }
  return [...seen.values()];
}

/** Makes held messages visible again at once (visibility 0); one whose handle expired is already visible. */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, j) => ({
          Id: `r${j}`,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** The entry that puts a dead letter back on the main queue: body and attributes as they were, the `dlq_*` ones dropped. */
export function redriveEntry(message: Message, queueUrl: string, id: string): SendMessageBatchRequestEntry {
  const attributes: Record<string, MessageAttributeValue> = Object.fromEntries(
    Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !name.startsWith("dlq_")),
  );
  const entry: SendMessageBatchRequestEntry = {
    Id: id,
    MessageBody: message.Body ?? "",
    MessageAttributes: attributes,
  };
  if (queueUrl.endsWith(".fifo")) {
    const event = eventOf(message.Body);
    entry.MessageGroupId = message.Attributes?.MessageGroupId ?? event.id ?? message.MessageId;
    // Not the event id: the webhook's deduplication (5 minutes) would drop a redrive made soon after.
    entry.MessageDeduplicationId = `redrive-${message.MessageId}`;
  }
  return entry;
}

/**
 * Moves held dead letters to the main queue: one SendMessageBatch, then a DeleteMessageBatch of
 * exactly the messages the main queue accepted, so a message is never deleted before it is safe
 * elsewhere. A kill between the two leaves a message on both queues (harmless: the worker finds
 * the event applied). Answers which moved and which the main queue refused (still held).
 */
export async function moveToQueue(
  sqs: SQSClient,
  dlqUrl: string,
  queueUrl: string,
  messages: readonly Message[],
): Promise<{ moved: Message[]; refused: { message: Message; error: string }[] }> {
  const moved: Message[] = [];
  const refused: { message: Message; error: string }[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, j) => redriveEntry(message, queueUrl, `m${j}`)),
      }),
    );
    const accepted = new Set((answer.Successful ?? []).map((entry) => entry.Id));
    const failures = new Map(
      (answer.Failed ?? []).map((entry) => [entry.Id, `${entry.Code}: ${entry.Message ?? ""}`]),
    );
    const sent = batch.filter((_, j) => accepted.has(`m${j}`));
    batch.forEach((message, j) => {
      if (!accepted.has(`m${j}`))
        refused.push({ message, error: failures.get(`m${j}`) ?? "not acknowledged" });
    });
    if (sent.length === 0) continue;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: sent.map((message, j) => ({ Id: `d${j}`, ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    moved.push(...sent);
  }
  return { moved, refused };
}

import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
  type SendMessageCommandInput,
} from "@aws-sdk/client-sqs";
import type { HeldMessage } from "./held-message.js";

/** Longest `dlq_detail` kept, in characters; the rest is cut with an ellipsis. */
export const MAX_DETAIL_LENGTH = 1024;
/** SQS allows at most 10 message attributes. */
const MAX_MESSAGE_ATTRIBUTES = 10;

/** Why a message is parked and what the worker knew about it. */
export interface DeadLetterReason {
  /** Short machine-readable reason, e.g. `unparseable_body` or `STRING_TOO_LONG`. */
  reason: string;
  /** Human-readable detail, truncated to MAX_DETAIL_LENGTH. */
  detail: string;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

const stringAttribute = (value: string): MessageAttributeValue => ({
  DataType: "String",
  StringValue: value,
});

/**
 * The SendMessage input that parks `message` on the dead-letter queue: the original body and
 * attributes unchanged, plus `dlq_reason`, `dlq_detail`, `dlq_source_message_id`, `dlq_receive_count`,
 * and `event_id` and `event_type` where the message had none (an EventBridge envelope).
 */
export function buildDeadLetterMessage(
  dlqUrl: string,
  message: HeldMessage,
  { reason, detail }: DeadLetterReason,
): SendMessageCommandInput {
  const added: Record<string, MessageAttributeValue> = {
    dlq_reason: stringAttribute(truncate(reason || "unknown", 256)),
    dlq_detail: stringAttribute(truncate(detail || "-", MAX_DETAIL_LENGTH)),
    dlq_source_message_id: stringAttribute(message.messageId),
    dlq_receive_count: stringAttribute(String(message.receiveCount)),
  };
  // An EventBridge envelope comes without attributes: name its event as the web role's messages do.
  const attributes = message.raw.MessageAttributes ?? {};
  if (message.event && attributes.event_id === undefined) {
    added.event_id = stringAttribute(message.event.id);
    added.event_type = stringAttribute(message.event.type);
  }
  const original = Object.entries(attributes)
    .filter(([name]) => !(name in added))
    .slice(0, MAX_MESSAGE_ATTRIBUTES - Object.keys(added).length);
  const input: SendMessageCommandInput = {
    QueueUrl: dlqUrl,
    MessageBody: message.raw.Body ?? "",
    MessageAttributes: { ...Object.fromEntries(original), ...added },
  };
  if (dlqUrl.endsWith(".fifo")) {
    input.MessageGroupId = message.raw.Attributes?.MessageGroupId ?? message.event?.id ?? message.messageId;
    input.MessageDeduplicationId = message.messageId;
  }
  return input;
}

/** Sends `message` to the dead-letter queue; throws when SQS refuses it. */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  dlqUrl: string,
  message: HeldMessage,
  reason: DeadLetterReason,
): Promise<void> {
  await sqs.send(new SendMessageCommand(buildDeadLetterMessage(dlqUrl, message, reason)));
}

/**
 * Finds the dead-letter queue named by the main queue's `RedrivePolicy` (GetQueueAttributes ->
 * `deadLetterTargetArn` -> queue name -> GetQueueUrl). Undefined when the queue has no policy.
 */
export async function discoverDeadLetterQueueUrl(
  sqs: SQSClient,
  queueUrl: string,
): Promise<string | undefined> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
  );
  const policy = Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: unknown }).deadLetterTargetArn;
  if (typeof arn !== "string") return undefined;
  // arn:aws:sqs:<region>:<account>:<queue name>
  const parts = arn.split(":");
  const queueName = parts[5];
  const accountId = parts[4];
  if (!queueName) return undefined;
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({
      QueueName: queueName,
      ...(accountId ? { QueueOwnerAWSAccountId: accountId } : {}),
    }),
  );
  return QueueUrl;
}

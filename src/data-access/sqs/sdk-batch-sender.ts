import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { BatchSender } from "./batch-sender.js";

/** SendMessageBatch through the AWS SDK's client. */
export function sdkBatchSender(sqs: SQSClient, queueUrl: string): BatchSender {
  return async (entries) => {
    const answer = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map((entry) => ({
          Id: entry.id,
          MessageBody: entry.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(entry.attributes).map(([name, value]) => [
              name,
              { DataType: "String", StringValue: value },
            ]),
          ),
          ...(entry.groupId === undefined
            ? {}
            : { MessageDeduplicationId: entry.deduplicationId, MessageGroupId: entry.groupId }),
        })),
      }),
    );
    return {
      succeeded: new Set((answer.Successful ?? []).map((entry) => entry.Id ?? "")),
      failed: new Map(
        (answer.Failed ?? []).map((entry) => [
          entry.Id ?? "",
          {
            code: entry.Code ?? "unknown",
            message: entry.Message ?? "",
            senderFault: entry.SenderFault === true,
          },
        ]),
      ),
    };
  };
}

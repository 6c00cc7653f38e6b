import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../../shared/logger.js";
import type { HeldMessage } from "./held-message.js";

/** Largest number of entries SQS takes in one batch call. */
const SQS_BATCH_LIMIT = 10;

/** Splits `items` into chunks of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** A failed entry of a batch call, with the message it was about. */
export interface FailedEntry {
  message: HeldMessage;
  code: string;
  detail: string;
}

function collectFailures(
  batch: readonly HeldMessage[],
  failed: readonly BatchResultErrorEntry[] | undefined,
): FailedEntry[] {
  return (failed ?? []).flatMap((entry) => {
    const message = batch[Number(entry.Id?.slice(1))];
    return message ? [{ message, code: entry.Code ?? "unknown", detail: entry.Message ?? "" }] : [];
  });
}

/** Runs one batch call per chunk of 10; a call that throws fails every entry of its chunk. */
async function inChunks(
  messages: readonly HeldMessage[],
  send: (batch: HeldMessage[]) => Promise<readonly BatchResultErrorEntry[] | undefined>,
): Promise<FailedEntry[]> {
  const results = await Promise.all(
    chunk(messages, SQS_BATCH_LIMIT).map(async (batch) => {
      try {
        return collectFailures(batch, await send(batch));
      } catch (error) {
        const detail = (error as Error).message || String(error);
        const code = (error as Error).name || "error";
        return batch.map((message) => ({ message, code, detail }));
      }
    }),
  );
  return results.flat();
}

/** Deletes messages with DeleteMessageBatch; returns (and logs) the entries SQS did not delete. */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly HeldMessage[],
): Promise<FailedEntry[]> {
  if (messages.length === 0) return [];
  const failures = await inChunks(messages, async (batch) => {
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        // Ids are positions, not MessageIds: the same message can be held twice after a redelivery.
        Entries: batch.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.receiptHandle })),
      }),
    );
    return result.Failed;
  });
  for (const { message, code, detail } of failures) {
    message.log.warn("delete failed; the message will be delivered again", { code, detail });
  }
  return failures;
}

/** Sets each message's visibility timeout (seconds) with ChangeMessageVisibilityBatch; returns failures. */
export async function changeVisibility(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly { message: HeldMessage; seconds: number }[],
  log: (failure: FailedEntry) => void = ({ message, code, detail }) =>
    message.log.warn("visibility change failed", { code, detail }),
): Promise<FailedEntry[]> {
  if (entries.length === 0) return [];
  const seconds = new Map(entries.map((e) => [e.message, e.seconds]));
  const failures = await inChunks(
    entries.map((e) => e.message),
    async (batch) => {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m, i) => ({
            Id: `m${i}`,
            ReceiptHandle: m.receiptHandle,
            VisibilityTimeout: seconds.get(m) ?? 0,
          })),
        }),
      );
      return result.Failed;
    },
  );
  failures.forEach(log);
  return failures;
}

/** Makes messages visible again at once (visibility 0) so another consumer can take them. */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly HeldMessage[],
  logger: Logger,
): Promise<void> {
  if (messages.length === 0) return;
  const failures = await changeVisibility(
    sqs,
    queueUrl,
    messages.map((message) => ({ message, seconds: 0 })),
    ({ message, code, detail }) =>
      message.log.warn("release failed; the message reappears after its visibility timeout", {
        code,
        detail,
      }),
  );
  logger.info("released unfinished messages", {
    released: messages.length - failures.length,
    failed: failures.length,
  });
}

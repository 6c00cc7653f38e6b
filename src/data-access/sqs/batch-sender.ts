import type { MessageAttributes } from "../../domain/ingest/queue-message-codec.js";

/** One entry of a SendMessageBatch call. */
export interface BatchEntry {
  /** Unique within the call (`m0`...`m9`). */
  id: string;
  body: string;
  attributes: MessageAttributes;
  /** FIFO queues only. */
  deduplicationId?: string;
  groupId?: string;
}

/** Why SQS refused one entry of a batch it otherwise answered. */
export interface EntryFailure {
  code: string;
  message: string;
  /** True when the sender is at fault (too large, characters SQS refuses): resending will not help. */
  senderFault: boolean;
}

/** SendMessageBatch's answer: the ids SQS stored, and the failure of each id it did not. */
export interface BatchAnswer {
  succeeded: ReadonlySet<string>;
  failed: ReadonlyMap<string, EntryFailure>;
}

/** Sends one SendMessageBatch call; rejects when the call as a whole failed. */
export type BatchSender = (entries: readonly BatchEntry[]) => Promise<BatchAnswer>;

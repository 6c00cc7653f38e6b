import type { EventQueue, QueueMessage } from "../../domain/ingest/event-queue.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { Metrics } from "../../shared/metrics.js";
import type { BatchEntry, BatchSender } from "./batch-sender.js";

/** SendMessageBatch takes at most 10 entries. */
const MAX_ENTRIES = 10;
/**
 * A batch's payload is kept within the classic 256 KiB so every SQS-compatible server takes the call;
 * a larger message goes alone, and the queue's MaximumMessageSize decides.
 */
const DEFAULT_MAX_BATCH_BYTES = 256 * 1024;

/** Options of the enqueue batcher. */
export interface EnqueueBatcherOptions {
  /** Sends one SendMessageBatch call to the queue. */
  send: BatchSender;
  queueUrl: string;
  /** The queue's MaximumMessageSize, cached (see queue-size-limit.ts). */
  maxMessageBytes: () => Promise<number>;
  metrics: Metrics;
  /**
   * Longest a message waits for companions before its batch is sent, in ms; 0 (the default) sends it
   * once the requests that arrived with it have been read (the event loop's check phase).
   */
  windowMs?: number;
  /** Upper bound of one batch's payload in bytes (default 256 KiB). */
  maxBatchBytes?: number;
  /**
   * SendMessageBatch calls in flight beyond which a batch that is not full waits for one of them to
   * finish instead of leaving when its window ends (default 2): under load batches fill up, so each
   * webhook carries less of a call's fixed cost; a lone request still waits only `windowMs`.
   */
  maxPartialInFlight?: number;
}

interface Pending {
  message: QueueMessage;
  startedAt: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Coalesces concurrent enqueues into SendMessageBatch calls. A batch leaves when it has 10
 * messages, when the next one would pass the byte bound, or when its window ends (see `windowMs`),
 * so a lone request is held back by at most that window. Each caller's promise settles with its
 * own entry's result: a partial batch failure fails only the requests whose messages failed.
 */
export class SqsEnqueueBatcher implements EventQueue {
  private readonly options: Required<EnqueueBatcherOptions>;
  private readonly isFifo: boolean;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** The window of the pending batch ended while too many calls were in flight. */
  private isWindowOver = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: EnqueueBatcherOptions) {
    this.options = { windowMs: 0, maxBatchBytes: DEFAULT_MAX_BATCH_BYTES, maxPartialInFlight: 2, ...options };
    this.isFifo = options.queueUrl.endsWith(".fifo");
  }

  maxMessageBytes(): Promise<number> {
    return this.options.maxMessageBytes();
  }

  enqueue(message: QueueMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const bytes = message.sizeBytes;
      if (this.pending.length > 0 && this.pendingBytes + bytes > this.options.maxBatchBytes) this.flush();
      this.pending.push({ message, startedAt: performance.now(), resolve, reject });
      this.pendingBytes += bytes;
      if (this.pending.length >= MAX_ENTRIES) this.flush();
      else if (this.timer === undefined && !this.isWindowOver)
        this.timer =
          this.options.windowMs === 0
            ? setImmediate(() => this.onWindowEnd())
            : setTimeout(() => this.onWindowEnd(), this.options.windowMs);
    });
  }

  /** Sends what is pending now and waits for every batch in flight to settle. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }

  private onWindowEnd(): void {
    this.timer = undefined;
    if (this.inFlight.size >= this.options.maxPartialInFlight) this.isWindowOver = true;
    else this.flush();
  }

  private flush(): void {
    if (this.options.windowMs === 0) clearImmediate(this.timer as NodeJS.Immediate | undefined);
    else clearTimeout(this.timer as NodeJS.Timeout | undefined);
    this.timer = undefined;
    this.isWindowOver = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const sending = this.send(batch);
    this.inFlight.add(sending);
    void sending.finally(() => {
      this.inFlight.delete(sending);
      if (this.isWindowOver) this.flush();
    });
  }

  private toEntry(message: QueueMessage, index: number): BatchEntry {
    return {
      id: `m${index}`,
      body: message.body,
      attributes: message.attributes,
      ...(this.isFifo ? { deduplicationId: message.eventId, groupId: message.orderingKey } : {}),
    };
  }

  private async send(batch: Pending[]): Promise<void> {
    const { metrics } = this.options;
    metrics.enqueueBatchSize.observe(batch.length);
    const settle = (item: Pending, error?: Error) => {
      metrics.enqueueDuration.observe(
        { outcome: error ? "failed" : "ok" },
        (performance.now() - item.startedAt) / 1000,
      );
      if (error) item.reject(error);
      else item.resolve();
    };
    try {
      const answer = await this.options.send(batch.map((item, index) => this.toEntry(item.message, index)));
      batch.forEach((item, index) => {
        const id = `m${index}`;
        if (answer.succeeded.has(id)) return settle(item);
        const failure = answer.failed.get(id);
        // SenderFault: SQS will refuse this message however often it is sent (too large, characters
        // it does not accept). Still 503, since the queue's settings can change, but counted apart.
        settle(
          item,
          new RetryableSyncError(
            failure?.senderFault ? "enqueue_rejected" : "enqueue_failed",
            failure
              ? `SQS refused the message: ${failure.code}: ${failure.message}`.trim()
              : "SQS did not acknowledge the message",
          ),
        );
      });
    } catch (error) {
      const reason = new RetryableSyncError(
        "enqueue_failed",
        `SendMessageBatch failed: ${(error as Error).name}: ${(error as Error).message}`,
        { cause: error },
      );
      for (const item of batch) settle(item, reason);
    }
  }
}

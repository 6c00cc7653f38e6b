import type { MessageAttributes } from "./queue-message-codec.js";

/** One verified Stripe event on its way to the durable queue, encoded by queue-message-codec.ts. */
export interface QueueMessage {
  /** The event JSON as Stripe signed it (escaped where SQS needs it), or its compressed or slimmed form. */
  body: string;
  /** String message attributes: `event_id`, `event_type`, `correlation_id`, and `body_format` when set. */
  attributes: MessageAttributes;
  /** Body plus attributes, as SQS counts a message's size. */
  sizeBytes: number;
  eventId: string;
  /** Keeps one customer's events in order on a FIFO queue (the customer id, else the object id). */
  orderingKey: string;
}

/** The durable queue as the ingest path sees it. `enqueue` resolves only once the queue has the message. */
export interface EventQueue {
  enqueue(message: QueueMessage): Promise<void>;
  /** The queue's MaximumMessageSize in bytes (read once from the queue, then cached). */
  maxMessageBytes(): Promise<number>;
}

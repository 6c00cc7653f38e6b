/** One verified Stripe event on its way to the durable queue. */
export interface QueueMessage {
  /** The raw event JSON, byte for byte as Stripe sent it. */
  body: string;
  eventId: string;
  eventType: string;
  correlationId: string;
  /** Keeps one customer's events in order on a FIFO queue (the customer id, else the object id). */
  orderingKey: string;
}

/** The durable queue as the ingest path sees it. `enqueue` resolves only once the queue has the message. */
export interface EventQueue {
  enqueue(message: QueueMessage): Promise<void>;
}

import type { Logger } from "../../shared/logger.js";
import type { StripeEvent } from "../stripe-event.js";
import type { EventOutcome } from "./event-outcome.js";

/** One event handed to the sync, with what the queue knows about its delivery. */
export interface SyncItem {
  event: StripeEvent;
  /** The queue delivered it before (SQS `ApproximateReceiveCount` > 1): an earlier attempt may have written. */
  isRedelivery: boolean;
  /**
   * The queue carried a slimmed envelope (the event was too large for it): `data.object` holds only
   * `id` and `object`, and complete-events.ts re-reads the rest from Stripe. Absent: false.
   */
  needsObject?: boolean;
  /**
   * A thin event (EventBridge, `v2.core.event`) made into a slimmed one: synced only when its type
   * is handled, its object can be read and a Stripe API key is configured; otherwise acknowledged
   * as ignored (`thin_event_unsupported`). Absent: false.
   */
  isThin?: boolean;
  /** Logger carrying the event's correlation id. */
  log: Logger;
}

/** Outcomes decided by one step, by position of the item in the batch. */
export type Outcomes = Map<number, EventOutcome>;

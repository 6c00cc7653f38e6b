import type { EventOutcome } from "../../domain/sync/event-outcome.js";
import type { StripeEvent } from "../../domain/stripe-event.js";
import type { Logger } from "../../shared/logger.js";

export type { EventOutcome, StripeEvent };

/**
 * The sync domain as the worker sees it: `outcomes[i]` answers `events[i]`. Mirrors `EventSyncer`
 * of src/domain/sync/sync-events.ts, which satisfies it structurally; kept here so the worker does
 * not pull the domain's data-access imports into its type graph.
 */
export interface EventSyncer {
  syncEvents(events: StripeEvent[], log: Logger): Promise<EventOutcome[]>;
}

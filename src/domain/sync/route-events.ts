import { PermanentSyncError } from "../../shared/errors.js";
import { outcomeOfError } from "./event-outcome.js";
import { handlerFor } from "./event-handlers.js";
import type { Intent } from "./plan-records.js";
import type { Outcomes, SyncItem } from "./sync-item.js";

/** The routed events of a batch and the outcomes of those that write nothing. */
export interface Routed {
  intents: Intent[];
  outcomes: Outcomes;
}

/** Routes and maps each candidate's payload; unknown types are ignored, unmappable ones dead-lettered. */
export function routeEvents(items: readonly SyncItem[], candidates: readonly number[]): Routed {
  const intents: Intent[] = [];
  const outcomes: Outcomes = new Map();
  for (const index of candidates) {
    const { event } = items[index] as SyncItem;
    const handler = handlerFor(event.type);
    if (!handler) {
      outcomes.set(index, { status: "ignored", reason: "unhandled_event_type" });
      continue;
    }
    try {
      const write = handler.map(event.data.object, event);
      if (write) intents.push({ index, event, handler, write });
      else outcomes.set(index, { status: "ignored", reason: "checkout_without_subscription" });
    } catch (error) {
      const failure =
        error instanceof PermanentSyncError
          ? error
          : new PermanentSyncError("unmappable_payload", String(error));
      outcomes.set(index, outcomeOfError(failure));
    }
  }
  return { intents, outcomes };
}

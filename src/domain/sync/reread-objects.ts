import type { Logger } from "../../shared/logger.js";
import { accountOf } from "../stripe-event.js";
import { outcomeOfError, type FailureOutcome } from "./event-outcome.js";
import type { RecordPlan } from "./plan-records.js";
import type { Outcomes } from "./sync-item.js";
import type { StripeObjectReader } from "./stripe-port.js";

/** Stripe reads in flight at once per batch (Stripe allows 100 reads/s in live mode). */
const REREAD_CONCURRENCY = 8;

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/**
 * Replaces each plan's main write with one mapped from the object's current state in Stripe, so
 * what lands is Stripe's state whatever the order of events (ordering still uses the event's
 * `created`), a Connect event's on behalf of its account. Final states are not re-read. An object
 * Stripe no longer has, or one that no longer maps, keeps the event's payload. A plan whose read
 * failed loses its main event, and its events get the failure's outcome.
 */
export async function rereadCurrentObjects(
  plans: readonly RecordPlan[],
  reader: StripeObjectReader,
  log: Logger,
): Promise<Outcomes> {
  const failures = new Map<RecordPlan, FailureOutcome>();
  const toRead = plans.filter((plan) => plan.main?.handler.reread && !plan.main.write.isFinal);
  await forEachLimited(toRead, REREAD_CONCURRENCY, async (plan) => {
    const main = plan.main;
    if (!main?.handler.reread) return;
    try {
      const current = await main.handler.reread(reader, plan.externalId, accountOf(main.event));
      if (!current) {
        log.info("object gone from Stripe; writing the event's payload", {
          eventId: main.event.id,
          id: plan.externalId,
        });
        return;
      }
      const write = main.handler.map(current, main.event);
      if (write && write.record.externalId === plan.externalId) main.write = write;
    } catch (error) {
      const outcome = outcomeOfError(error);
      if (outcome.reason === "unmappable_payload") {
        log.warn("re-read object does not map; writing the event's payload", { eventId: main.event.id });
        return;
      }
      failures.set(plan, outcome);
    }
  });
  const outcomes: Outcomes = new Map();
  for (const [plan, failure] of failures) {
    for (const intent of [plan.main, ...plan.superseded]) if (intent) outcomes.set(intent.index, failure);
    delete plan.main;
    plan.superseded = [];
  }
  return outcomes;
}

import type { EventOutcome } from "./event-outcome.js";
import type { WriteEntry } from "./compose-writes.js";
import type { Intent, RecordPlan } from "./plan-records.js";
import type { Outcomes } from "./sync-item.js";
import type { RecordUpdate } from "./sync-store-port.js";

/** What a batch's writes came to: outcomes that stand, outcomes that wait for the store commit, and the commit. */
export interface Collected {
  /** Failures: final whatever the commit does. */
  failed: Outcomes;
  /** Applied, stale and duplicate outcomes: they stand once the store remembers them. */
  committable: Outcomes;
  appliedEventIds: string[];
  records: RecordUpdate[];
}

/** Turns write results into outcomes and store updates. */
export function collectResults(plans: readonly RecordPlan[], entries: readonly WriteEntry[]): Collected {
  const collected: Collected = {
    failed: new Map(),
    committable: new Map(),
    appliedEventIds: [],
    records: [],
  };
  const settle = (intent: Intent, outcome: EventOutcome) => {
    collected.committable.set(intent.index, outcome);
    collected.appliedEventIds.push(intent.event.id);
  };
  for (const plan of plans) {
    for (const intent of plan.stale) settle(intent, { status: "stale" });
    for (const intent of plan.duplicates) settle(intent, { status: "duplicate" });
  }
  for (const entry of entries) {
    const { plan, result } = entry;
    if (result === undefined) continue;
    if (result !== "ok") {
      if (plan)
        for (const intent of [plan.main, ...plan.superseded, ...plan.checkouts])
          if (intent) collected.failed.set(intent.index, result);
      continue;
    }
    collected.records.push(entry.update);
    if (!plan) continue;
    if (plan.main) settle(plan.main, { status: "applied" });
    for (const intent of plan.checkouts) settle(intent, { status: "applied" });
    for (const intent of plan.superseded) settle(intent, { status: "stale" });
  }
  return collected;
}

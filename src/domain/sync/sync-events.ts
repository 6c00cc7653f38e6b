import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { accountOf } from "../stripe-event.js";
import { collectResults } from "./collect-results.js";
import { completeEvents } from "./complete-events.js";
import { RECORD_BUSY, composeWrites, customerKey, parentIdsOf } from "./compose-writes.js";
import { OUTCOME_LABEL, outcomeOfError, type EventOutcome } from "./event-outcome.js";
import { DEFAULT_RECORD_LEASES, LeaseScope } from "./lease-scope.js";
import type { DefaultObjectName } from "./mapped-record.js";
import type { Mapping } from "./mapping.js";
import { keyOf, planRecords, type Intent } from "./plan-records.js";
import { rereadCurrentObjects } from "./reread-objects.js";
import { routeEvents } from "./route-events.js";
import { RecordStates } from "./record-states.js";
import type { SalesforceReader, SalesforceWriter } from "./salesforce-port.js";
import { screenEvents, type AcceptedMode } from "./screen-events.js";
import type { StripeObjectReader } from "./stripe-port.js";
import type { Outcomes, SyncItem } from "./sync-item.js";
import type { LeaseOptions, SyncStore } from "./sync-store-port.js";
import { writeEntries } from "./write-records.js";

export type { EventOutcome } from "./event-outcome.js";
export type { SyncItem } from "./sync-item.js";

/** Syncs batches of Stripe events to Salesforce. */
export interface EventSyncer {
  /** outcomes[i] is the outcome of items[i]; never throws for one bad event. */
  syncEvents(items: readonly SyncItem[], log: Logger): Promise<EventOutcome[]>;
}

/** What the syncer works with; the composition root wires the real ones. */
export interface EventSyncerDeps {
  writer: SalesforceWriter;
  /** Reads what the org holds where the store does not know a record, or an event is redelivered. */
  reader: SalesforceReader;
  /** A cache of what the org holds (the org is the truth): losing it costs reads, never a wrong write. */
  store: SyncStore;
  /** Re-reads objects before writing when a Stripe API key is configured; without it, payloads are written. */
  stripe?: StripeObjectReader | undefined;
  mapping: Mapping;
  metrics: Metrics;
  clock: Clock;
  /** How long applied event ids are remembered (config worker.idempotencyTtlSeconds, default 35 days). */
  idempotencyTtlSeconds: number;
  /** Record lease lifetime and wait (default DEFAULT_RECORD_LEASES). */
  recordLeases?: LeaseOptions | undefined;
  /** Which mode's events are written (config STRIPE_EVENT_MODE, default `both`); the other's are ignored. */
  acceptedMode?: AcceptedMode | undefined;
}

/** Creates the syncer: one batch of events becomes at most one upsert call per object, parents first. */
export function createEventSyncer(deps: EventSyncerDeps): EventSyncer {
  return { syncEvents: (items, log) => syncEvents(items, deps, log) };
}

/**
 * The use case, step by step: screen out what needs no call (not an event, repeated, already
 * applied), route and map, then write what is left; whatever no step decided (the store failed,
 * or something unforeseen) is retried, so nothing undecided is lost.
 */
async function syncEvents(
  items: readonly SyncItem[],
  deps: EventSyncerDeps,
  log: Logger,
): Promise<EventOutcome[]> {
  const outcomes: Outcomes = new Map();
  const objects = new Map<number, DefaultObjectName>();
  const take = (decided: Outcomes) => decided.forEach((outcome, index) => outcomes.set(index, outcome));
  try {
    const screened = await screenEvents(items, deps.store, deps.acceptedMode);
    take(screened.outcomes);
    const complete = await completeEvents(items, screened.candidates, deps.stripe, take);
    const routed = routeEvents(items, complete);
    take(routed.outcomes);
    for (const intent of routed.intents) objects.set(intent.index, intent.write.record.object);
    if (routed.intents.length > 0) await writeIntents(items, routed.intents, deps, log, take);
  } catch (error) {
    const outcome = outcomeOfError(error);
    log.warn("batch failed; its undecided events will be retried", { reason: outcome.reason });
    items.forEach((_, i) => {
      if (!outcomes.has(i)) outcomes.set(i, outcome);
    });
  }
  const list = items.map((_, i) => outcomes.get(i) as EventOutcome);
  reportOutcomes(items, list, objects, deps);
  return list;
}

/** Record keys an intent needs held: its own and its parent customer's. */
function keysOfIntent(intent: Intent): string[] {
  const customerId = intent.write.record.customerId;
  return customerId ? [keyOf(intent), customerKey(customerId)] : [keyOf(intent)];
}

/**
 * Leases the intents' records, plans them against what the records hold (the store, else the org),
 * re-reads current objects from Stripe, writes parents first (fenced by the leases), and commits
 * what landed to the store. Outcomes are handed to `take` as soon as they stand; applied, stale
 * and duplicate ones only after the commit.
 */
async function writeIntents(
  items: readonly SyncItem[],
  intents: readonly Intent[],
  deps: EventSyncerDeps,
  log: Logger,
  take: (decided: Outcomes) => void,
): Promise<void> {
  const { store } = deps;
  const scope = new LeaseScope(store, deps.recordLeases ?? DEFAULT_RECORD_LEASES, deps.clock, log);
  // A redelivered event may have been written by an attempt that died before its commit: ask the org.
  const redelivered = new Set(intents.filter((i) => items[i.index]?.isRedelivery).flatMap(keysOfIntent));
  const states = new RecordStates(deps, (key) => redelivered.has(key));
  const loadHeld = (keys: readonly string[]) => states.load(keys.filter((key) => scope.holdsAll([key])));
  try {
    await scope.lease(intents.flatMap(keysOfIntent));
    const busy: Outcomes = new Map();
    const held = intents.filter((intent) => {
      if (scope.holdsAll(keysOfIntent(intent))) return true;
      busy.set(intent.index, { ...RECORD_BUSY });
      return false;
    });
    take(busy);
    // A batch that held these records before us may have applied some of the events meanwhile.
    const appliedMeanwhile = await store.findAppliedEvents([...new Set(held.map((i) => i.event.id))]);
    take(
      new Map(
        held.filter((i) => appliedMeanwhile.has(i.event.id)).map((i) => [i.index, { status: "duplicate" }]),
      ),
    );
    const fresh = held.filter((intent) => !appliedMeanwhile.has(intent.event.id));

    await loadHeld(fresh.flatMap(keysOfIntent));
    const plans = [...planRecords(fresh, states.all()).values()];
    if (deps.stripe) take(await rereadCurrentObjects(plans, deps.stripe, log));
    // A re-read may name a customer the payload did not: lease and load those too.
    const parentKeys = plans.flatMap((plan) => parentIdsOf(plan).map(customerKey));
    await scope.lease(parentKeys);
    await loadHeld(parentKeys);

    const entries = composeWrites(plans, states.all(), (key) => scope.holdsAll([key]));
    const stubs = await writeEntries(entries, {
      writer: deps.writer,
      mapping: deps.mapping,
      metrics: deps.metrics,
      states: states.all(),
      fence: (keys) => scope.beginWrite(keys),
    });
    const collected = collectResults(plans, [...entries, ...stubs]);
    take(collected.failed);
    await scope.commit({
      appliedEventIds: collected.appliedEventIds,
      eventTtlSeconds: deps.idempotencyTtlSeconds,
      records: [...states.warmUpdates(), ...collected.records],
    });
    take(collected.committable);
  } finally {
    await scope.close();
  }
}

/**
 * Counts outcomes (by type, by Stripe account, ignored ones by reason, and Connect events written
 * to an object the org has no Stripe_Account_Id__c on), observes the lag of applied events and
 * logs those not applied. `objects` names the object each routed event writes.
 */
function reportOutcomes(
  items: readonly SyncItem[],
  outcomes: readonly EventOutcome[],
  objects: ReadonlyMap<number, DefaultObjectName>,
  deps: EventSyncerDeps,
): void {
  const nowSeconds = deps.clock.now() / 1000;
  const { metrics, mapping } = deps;
  outcomes.forEach((outcome, i) => {
    const { event, log } = items[i] as SyncItem;
    const eventType = typeof event?.type === "string" ? event.type : "unknown";
    const account = event ? accountOf(event) : undefined;
    const label = OUTCOME_LABEL[outcome.status];
    metrics.syncEvents.inc({ event_type: eventType, outcome: label });
    metrics.accountEvents.inc({ account: account ?? "platform", outcome: label });
    if (outcome.status === "ignored") metrics.ignoredEvents.inc({ reason: outcome.reason });
    const object = objects.get(i);
    if (
      outcome.status === "applied" &&
      account &&
      object &&
      !mapping.objects[object].fields.Stripe_Account_Id__c
    )
      metrics.connectWritesWithoutAccount.inc({ object });
    if (outcome.status === "applied") metrics.eventLag.observe(Math.max(0, nowSeconds - event.created));
    if (outcome.status === "retry" || outcome.status === "dead-letter")
      log.warn("event not applied", { ...outcome });
  });
}

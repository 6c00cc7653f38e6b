import type {
  SalesforceRecord,
  SalesforceWriter,
  UpsertRecordResult,
} from "../../data-access/salesforce/salesforce-writer.js";
import type {
  EventStamp,
  LeaseOptions,
  RecordLeases,
  RecordState,
  RecordUpdate,
  SyncStore,
} from "../../data-access/store/sync-store.js";
import { recordKey } from "../../data-access/store/sync-store.js";
import type { StripeObjectReader } from "../../data-access/stripe/stripe-object-reader.js";
import { PermanentSyncError } from "../../shared/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { isStripeEvent, type StripeEvent } from "../stripe-event.js";
import { OUTCOME_LABEL, outcomeOfError, type EventOutcome, type FailureOutcome } from "./event-outcome.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { orgExternalIdField, toOrgRecord, type Mapping } from "./mapping.js";
import { composeRecord, planRecords, stampOf, type Intent, type RecordPlan } from "./plan-records.js";
import { rereadCurrentObjects } from "./reread-objects.js";
import { handlerFor } from "./route-event.js";

export type { EventOutcome } from "./event-outcome.js";

/** Syncs batches of Stripe events to Salesforce. */
export interface EventSyncer {
  /** outcomes[i] is the outcome of events[i]; never throws for one bad event. */
  syncEvents(events: StripeEvent[], log: Logger): Promise<EventOutcome[]>;
}

/** What the syncer works with; `main` wires the real ones. */
export interface EventSyncerDeps {
  writer: SalesforceWriter;
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
}

/**
 * A batch holds a lease on every record it touches (parents included) from reading their states
 * to committing them, renewed every third of `ttlMs` while it runs, so a slow Salesforce call
 * never outlives it. `ttlMs` only bounds how long a worker that died holding leases blocks those
 * records; `waitMs` is how long a batch waits for records another batch holds (normally for one
 * batch's Salesforce calls) before retrying their events later as record_busy. With `waitMs` no
 * shorter than `ttlMs`, the messages of a worker that died come back, wait out its leases and
 * land, instead of going round the queue's backoff.
 */
export const DEFAULT_RECORD_LEASES: LeaseOptions = { ttlMs: 10_000, waitMs: 10_000 };

/** The outcome of an event whose record (or parent) another batch kept busy past `waitMs`. */
export const RECORD_BUSY: FailureOutcome = { status: "retry", reason: "record_busy", retryInSeconds: 2 };

/** Creates the syncer: one batch of events becomes at most one upsert call per object, parents first. */
export function createEventSyncer(deps: EventSyncerDeps): EventSyncer {
  return { syncEvents: (events, log) => new BatchSync(deps, events, log).run() };
}

/** One record to upsert and, once the call answered, how it went. */
interface WriteEntry {
  key: string;
  fields: SalesforceRecord;
  source: Record<string, unknown> | undefined;
  plan?: RecordPlan;
  stamp?: EventStamp | undefined;
  /** Store keys of parent customers this record needs written first. */
  dependsOn: string[];
  result?: "ok" | FailureOutcome;
}

/** Children are written after their parents, in one call per object; these two go in parallel. */
const CHILD_OBJECTS: DefaultObjectName[] = ["Stripe_Subscription__c", "Payment_Transaction__c"];

/** The failure of one record in a collections answer. */
function failureOfRecord(result: UpsertRecordResult | undefined): FailureOutcome {
  const error = result?.errors[0];
  const code = error?.statusCode ?? "UNKNOWN_ERROR";
  const message = error?.message ?? "Salesforce gave no result for the record";
  if (!result || result.isRetryable) return { status: "retry", reason: code };
  return { status: "dead-letter", reason: code, detail: `${code}: ${message}` };
}

/** The state of one syncEvents call. */
class BatchSync {
  private readonly outcomes: (EventOutcome | undefined)[];
  /** Applied and stale outcomes wait for the store commit: without it they are retried. */
  private readonly pending = new Map<number, EventOutcome>();
  private readonly appliedIds = new Set<string>();
  private readonly updates: RecordUpdate[] = [];
  private readonly states = new Map<string, RecordState>();
  private readonly fetchedKeys = new Set<string>();
  /** Leases this batch took; states are only read, and records only written, for keys held. */
  private readonly leases: RecordLeases[] = [];
  private readonly heldKeys = new Set<string>();

  constructor(
    private readonly deps: EventSyncerDeps,
    private readonly events: readonly StripeEvent[],
    private readonly log: Logger,
  ) {
    this.outcomes = events.map(() => undefined);
  }

  async run(): Promise<EventOutcome[]> {
    try {
      await this.sync();
    } catch (error) {
      // The store (or something unforeseen) failed: nothing undecided is lost, all of it is retried.
      const outcome = outcomeOfError(error);
      this.log.warn("batch failed; its undecided events will be retried", { reason: outcome.reason });
      this.outcomes.forEach((current, i) => {
        if (current === undefined) this.outcomes[i] = outcome;
      });
    }
    const nowSeconds = this.deps.clock.now() / 1000;
    const outcomes = this.outcomes as EventOutcome[];
    outcomes.forEach((outcome, i) => {
      const event = this.events[i] as StripeEvent;
      const eventType = typeof event?.type === "string" ? event.type : "unknown";
      this.deps.metrics.syncEvents.inc({ event_type: eventType, outcome: OUTCOME_LABEL[outcome.status] });
      if (outcome.status === "applied")
        this.deps.metrics.eventLag.observe(Math.max(0, nowSeconds - event.created));
      if (outcome.status === "retry" || outcome.status === "dead-letter") {
        this.log.warn("event not applied", { eventId: event?.id, eventType, ...outcome });
      }
    });
    return outcomes;
  }

  private async sync(): Promise<void> {
    const candidates = await this.dropDuplicates();
    const routed = this.routeEvents(candidates);
    const renewal = setInterval(() => void this.renewLeases(), Math.max(1, this.leaseOptions.ttlMs / 3));
    renewal.unref();
    try {
      await this.lease(routed.flatMap((intent) => this.keysOf(intent)));
      const intents = await this.dropAppliedMeanwhile(routed.filter((intent) => this.holdsKeysOf(intent)));
      await this.loadStates(intents.flatMap((intent) => this.keysOf(intent)));
      const plans = [...planRecords(intents, this.states).values()];
      if (this.deps.stripe) await this.reread(plans, this.deps.stripe);
      const entries = await this.composeWrites(plans);
      await this.write(entries);
      this.collectResults(plans, entries);
      await this.deps.store.commit({
        appliedEventIds: [...this.appliedIds],
        eventTtlSeconds: this.deps.idempotencyTtlSeconds,
        records: this.updates,
      });
      for (const [index, outcome] of this.pending) this.outcomes[index] = outcome;
    } finally {
      clearInterval(renewal);
      await this.releaseLeases();
    }
  }

  private get leaseOptions(): LeaseOptions {
    return this.deps.recordLeases ?? DEFAULT_RECORD_LEASES;
  }

  /** Leases the keys not held yet (waiting up to waitMs for busy ones); store failures throw. */
  private async lease(keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.heldKeys.has(key));
    if (missing.length === 0) return;
    const leases = await this.deps.store.acquireRecordLeases(missing, this.leaseOptions);
    this.leases.push(leases);
    for (const key of leases.acquired) this.heldKeys.add(key);
  }

  /** True when the batch holds the record of `intent` and its parent; otherwise marks it busy. */
  private holdsKeysOf(intent: Intent): boolean {
    if (this.keysOf(intent).every((key) => this.heldKeys.has(key))) return true;
    this.outcomes[intent.index] = { ...RECORD_BUSY };
    return false;
  }

  /**
   * Drops the events a batch that held their records before us applied after our first check (a
   * redelivery handled by two batches at once): applied once, written once.
   */
  private async dropAppliedMeanwhile(intents: Intent[]): Promise<Intent[]> {
    if (intents.length === 0) return intents;
    const applied = await this.deps.store.findAppliedEvents([...new Set(intents.map((i) => i.event.id))]);
    return intents.filter((intent) => {
      if (!applied.has(intent.event.id)) return true;
      this.outcomes[intent.index] = { status: "duplicate" };
      return false;
    });
  }

  private async renewLeases(): Promise<void> {
    for (const leases of this.leases) {
      try {
        await leases.renew();
      } catch (error) {
        this.log.warn("record lease renewal failed", { error: (error as Error).message });
      }
    }
  }

  /** Gives the leases back; one the store fails to release runs out after its TTL. */
  private async releaseLeases(): Promise<void> {
    await Promise.all(
      this.leases.map((leases) =>
        leases.release().catch((error: unknown) => {
          this.log.warn("record lease release failed; it runs out after its TTL", {
            error: (error as Error).message,
          });
        }),
      ),
    );
  }

  /** Marks repeats within the batch and events already applied as duplicates; returns the rest. */
  private async dropDuplicates(): Promise<number[]> {
    const firstOf = new Map<string, number>();
    this.events.forEach((event, i) => {
      if (!isStripeEvent(event)) {
        this.outcomes[i] = {
          status: "dead-letter",
          reason: "unmappable_payload",
          detail: "not a Stripe event envelope",
        };
      } else if (firstOf.has(event.id)) this.outcomes[i] = { status: "duplicate" };
      else firstOf.set(event.id, i);
    });
    const applied = await this.deps.store.findAppliedEvents([...firstOf.keys()]);
    const candidates: number[] = [];
    for (const [id, i] of firstOf) {
      if (applied.has(id)) this.outcomes[i] = { status: "duplicate" };
      else candidates.push(i);
    }
    return candidates;
  }

  /** Routes and maps each event's payload; unknown types are ignored, unmappable ones dead-lettered. */
  private routeEvents(candidates: readonly number[]): Intent[] {
    const intents: Intent[] = [];
    for (const index of candidates) {
      const event = this.events[index] as StripeEvent;
      const handler = handlerFor(event.type);
      if (!handler) {
        this.outcomes[index] = { status: "ignored", reason: "unhandled_event_type" };
        continue;
      }
      try {
        const write = handler.map(event.data.object, event);
        if (write) intents.push({ index, event, handler, write });
        else this.outcomes[index] = { status: "ignored", reason: "checkout_without_subscription" };
      } catch (error) {
        const failure =
          error instanceof PermanentSyncError
            ? error
            : new PermanentSyncError("unmappable_payload", String(error));
        this.outcomes[index] = outcomeOfError(failure);
      }
    }
    return intents;
  }

  private keysOf(intent: Intent): string[] {
    const { object, externalId, customerId } = intent.write.record;
    const keys = [recordKey(object, externalId)];
    if (customerId) keys.push(recordKey("Stripe_Customer__c", customerId));
    return keys;
  }

  /** Loads the states of records not loaded yet (one round trip). */
  private async loadStates(keys: readonly string[]): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.fetchedKeys.has(key));
    if (missing.length === 0) return;
    const states = await this.deps.store.getRecordStates(missing);
    for (const key of missing) this.fetchedKeys.add(key);
    for (const [key, state] of states) this.states.set(key, state);
  }

  private async reread(plans: RecordPlan[], reader: StripeObjectReader): Promise<void> {
    const failures = await rereadCurrentObjects(plans, reader, this.log);
    for (const plan of plans) {
      const failure = failures.get(plan.key);
      if (!failure || !plan.main) continue;
      for (const intent of [plan.main, ...plan.superseded]) this.outcomes[intent.index] = failure;
      delete plan.main;
      plan.superseded = [];
    }
  }

  /** One record per External ID per object, plus a parent stub for each customer never written. */
  private async composeWrites(plans: readonly RecordPlan[]): Promise<Map<DefaultObjectName, WriteEntry[]>> {
    const entries = new Map<DefaultObjectName, WriteEntry[]>();
    const add = (object: DefaultObjectName, entry: WriteEntry) =>
      entries.set(object, [...(entries.get(object) ?? []), entry]);
    const customers = new Map<string, WriteEntry>();
    const children: [DefaultObjectName, WriteEntry, string[]][] = [];
    for (const plan of plans) {
      const composed = composeRecord(plan);
      if (!composed) continue;
      const entry: WriteEntry = { key: plan.key, ...composed, plan, dependsOn: [] };
      if (plan.object === "Stripe_Customer__c") customers.set(plan.key, entry);
      else {
        const parts = [...(plan.main ? [plan.main] : []), ...plan.checkouts];
        const customerIds = [
          ...new Set(parts.map((p) => p.write.record.customerId).filter((id) => id !== null)),
        ];
        children.push([plan.object, entry, customerIds]);
      }
    }
    // A re-read may name a customer the payload did not: lease and load those too.
    await this.lease(children.flatMap(([, , ids]) => ids.map((id) => recordKey("Stripe_Customer__c", id))));
    await this.loadStates(
      children.flatMap(([, , ids]) =>
        ids.map((id) => recordKey("Stripe_Customer__c", id)).filter((key) => this.heldKeys.has(key)),
      ),
    );
    for (const [object, entry, customerIds] of children) {
      if (customerIds.some((id) => !this.heldKeys.has(recordKey("Stripe_Customer__c", id)))) {
        entry.result = { ...RECORD_BUSY };
        add(object, entry);
        continue;
      }
      for (const customerId of customerIds) {
        const key = recordKey("Stripe_Customer__c", customerId);
        if (this.states.get(key)?.isWritten) continue;
        if (!customers.has(key)) {
          const stub = { Stripe_Customer_Id__c: customerId, Name: customerId };
          customers.set(key, { key, fields: stub, source: undefined, dependsOn: [] });
        }
        entry.dependsOn.push(key);
      }
      add(object, entry);
    }
    if (customers.size > 0) entries.set("Stripe_Customer__c", [...customers.values()]);
    return entries;
  }

  /** Parents first, then the children whose parents landed, one upsert call per object. */
  private async write(entries: Map<DefaultObjectName, WriteEntry[]>): Promise<void> {
    const customers = entries.get("Stripe_Customer__c") ?? [];
    await this.upsert("Stripe_Customer__c", customers);
    const parentResults = new Map(customers.map((entry) => [entry.key, entry.result]));
    await Promise.all(
      CHILD_OBJECTS.map((object) => {
        const ready: WriteEntry[] = [];
        for (const entry of entries.get(object) ?? []) {
          if (entry.result !== undefined) continue;
          const failedParent = entry.dependsOn.find((key) => parentResults.get(key) !== "ok");
          const parentResult = failedParent === undefined ? undefined : parentResults.get(failedParent);
          if (failedParent === undefined) ready.push(entry);
          else if (parentResult === undefined || parentResult === "ok")
            entry.result = { status: "retry", reason: "parent_not_written" };
          else if (parentResult.status === "retry") entry.result = parentResult;
          else entry.result = { ...parentResult, detail: `parent ${failedParent}: ${parentResult.detail}` };
        }
        return this.upsert(object, ready);
      }),
    );
  }

  private async upsert(object: DefaultObjectName, entries: WriteEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const { mapping, writer } = this.deps;
    const records = entries.map((entry) => toOrgRecord(mapping, object, entry.fields, entry.source));
    let results: UpsertRecordResult[];
    try {
      results = await writer.upsert(
        mapping.objects[object].name,
        orgExternalIdField(mapping, object),
        records,
      );
    } catch (error) {
      const outcome = outcomeOfError(error);
      for (const entry of entries) entry.result = outcome;
      return;
    }
    entries.forEach((entry, i) => {
      const result = results[i];
      entry.result = result?.success ? "ok" : failureOfRecord(result);
    });
  }

  /** Turns write results into outcomes (pending the commit) and store updates. */
  private collectResults(plans: readonly RecordPlan[], entries: Map<DefaultObjectName, WriteEntry[]>): void {
    for (const plan of plans) {
      for (const intent of plan.stale) this.settle(intent, { status: "stale" });
    }
    for (const entry of [...entries.values()].flat()) {
      const { plan, result } = entry;
      if (result === undefined) continue;
      if (result !== "ok") {
        if (plan)
          for (const intent of [plan.main, ...plan.superseded, ...plan.checkouts]) this.fail(intent, result);
        continue;
      }
      const update: RecordUpdate = { key: entry.key };
      if (plan?.main) {
        update.applied = stampOf(plan.main);
        if (plan.main.write.isFinal) update.isFinal = true;
        this.settle(plan.main, { status: "applied" });
      }
      if (entry.stamp) update.stamp = entry.stamp;
      for (const intent of plan?.checkouts ?? []) this.settle(intent, { status: "applied" });
      for (const intent of plan?.superseded ?? []) this.settle(intent, { status: "stale" });
      this.updates.push(update);
    }
  }

  private settle(intent: Intent, outcome: EventOutcome): void {
    this.pending.set(intent.index, outcome);
    this.appliedIds.add(intent.event.id);
  }

  private fail(intent: Intent | undefined, outcome: FailureOutcome): void {
    if (intent) this.outcomes[intent.index] = outcome;
  }
}

import type { Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import type { BulkWriter } from "./bulk-writer-port.js";
import { customerKey, type WriteEntry } from "./compose-writes.js";
import type { FailureOutcome } from "./event-outcome.js";
import { LeaseScope } from "./lease-scope.js";
import { mapReadObject, OBJECT_OF_KIND, type ReadObjectKind } from "./map-read-object.js";
import { toDateTime } from "./map-values.js";
import type { DefaultObjectName, MappedRecord } from "./mapped-record.js";
import type { Mapping } from "./mapping.js";
import { judgeEvent } from "./ordering.js";
import { readOrgRecordStates, readStamp } from "./org-record-states.js";
import type { RecordPlan } from "./plan-records.js";
import type { SalesforceReader, SalesforceRecord, SalesforceWriter } from "./salesforce-port.js";
import type { StripeObject } from "./stripe-port.js";
import {
  recordKey,
  type LeaseOptions,
  type RecordState,
  type RecordUpdate,
  type SyncStore,
} from "./sync-store-port.js";
import { writeBulkEntries } from "./write-bulk-entries.js";
import { writeEntries } from "./write-records.js";

/** One Stripe object read from a list, without an event. */
export interface ReadObject {
  kind: ReadObjectKind;
  object: StripeObject;
  /** Unix seconds when it was read from Stripe (the request's start): it reflects every change before. */
  readAt: number;
}

/** What became of one object. */
export type ObjectOutcome =
  | { status: "written"; created: boolean; via: "collections" | "bulk" }
  /** newer_in_org: the record holds a write newer than the read; final_in_org: a final state the object would take back. */
  | { status: "skipped"; reason: "newer_in_org" | "final_in_org" | "not_written" | "busy"; detail?: string }
  | { status: "failed"; reason: string; detail: string; isRetryable: boolean };

/** The outcome of one object, with the record it maps to. */
export interface ObjectResult {
  kind: ReadObjectKind;
  object: DefaultObjectName;
  externalId: string;
  outcome: ObjectOutcome;
}

/** What syncing a batch of objects came to. */
export interface ObjectSyncReport {
  results: ObjectResult[];
  /** Bulk jobs run, with their id, end state and REST calls. */
  bulkJobs: { jobId: string; state: string; errorMessage?: string; apiCalls: number }[];
  /**
   * True when the leases lapsed before the store commit (Redis stalled past their lifetime): a live
   * write to one of the records may have been overwritten meanwhile; a reconcile finds and fixes it.
   */
  isLeaseLost: boolean;
}

/** What the use case works with; the composition root wires the real ones. */
export interface ObjectSyncDeps {
  writer: SalesforceWriter;
  reader: SalesforceReader;
  /** Bulk API 2.0 jobs, for `via: "bulk"`. */
  bulk?: BulkWriter | undefined;
  /** Leases the records against the live worker and learns what landed (a cache of the org). */
  store: SyncStore;
  mapping: Mapping;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
  /** Lease lifetime and wait (default OBJECT_SYNC_LEASES). */
  recordLeases?: LeaseOptions | undefined;
}

/** Leases of an object sync: the worker's lifetime, a short wait (a busy record is tried again later). */
export const OBJECT_SYNC_LEASES: LeaseOptions = { ttlMs: 30_000, waitMs: 2_000 };
/** Ids of records read per lease round: a busy key holds back only the rest of its round. */
const LEASE_ROUND = 500;

/** A record to write with what decided it. */
interface Candidate {
  kind: ReadObjectKind;
  readAt: number;
  record: MappedRecord;
  isFinal: boolean;
  key: string;
}

/** Judges a read object against the record: a write the org holds of the read's second or later wins. */
function judgeRead(
  state: RecordState | undefined,
  readAt: number,
  isFinal: boolean,
): ObjectOutcome | undefined {
  if (!state) return undefined;
  const verdict = judgeEvent(state, { ...readStamp(readAt), isFinal });
  if (verdict !== "apply")
    return { status: "skipped", reason: state.isFinal ? "final_in_org" : "newer_in_org" };
  // An event of the read's own second may have come after the read: the org's record stands.
  if (state.last && state.last.created >= readAt && !(isFinal && !state.isFinal))
    return { status: "skipped", reason: "newer_in_org" };
  return undefined;
}

/** The entry that writes `candidate` as read at `readAt`: Last_Stripe_Event_At__c is the read time, the id left as is. */
function entryOf(candidate: Candidate, state: RecordState | undefined, readAt: number): WriteEntry {
  const { record } = candidate;
  const fields: SalesforceRecord = { ...record.fields, Last_Stripe_Event_At__c: toDateTime(readAt) };
  if (record.object === "Stripe_Subscription__c" && !state?.exists) fields.Sync_Status__c = "Pending";
  const plan: RecordPlan = {
    key: candidate.key,
    object: record.object,
    externalId: record.externalId,
    state,
    superseded: [],
    checkouts: [],
    stale: [],
    duplicates: [],
  };
  const update: RecordUpdate = { key: candidate.key, last: readStamp(readAt) };
  if (candidate.isFinal) update.isFinal = true;
  return {
    key: candidate.key,
    object: record.object,
    fields,
    source: record.source,
    plan,
    update,
    parents: [],
  };
}

/** A parent stub (id and Name) for a customer the org does not have. */
function stubOf(key: string): WriteEntry {
  const id = key.slice("Stripe_Customer__c:".length);
  const fields = { Stripe_Customer_Id__c: id, Name: id };
  return {
    key,
    object: "Stripe_Customer__c",
    fields,
    source: undefined,
    plan: undefined,
    update: { key },
    parents: [],
  };
}

/** The outcome of a written or failed entry. */
function outcomeOfEntry(entry: WriteEntry, via: "collections" | "bulk"): ObjectOutcome {
  if (entry.result === "ok") return { status: "written", created: !entry.plan?.state?.exists, via };
  const failure = (entry.result ?? {
    status: "retry",
    reason: "not_sent",
    detail: "no write was attempted",
  }) as FailureOutcome;
  return {
    status: "failed",
    reason: failure.reason,
    detail: failure.detail ?? failure.reason,
    isRetryable: failure.status === "retry",
  };
}

/**
 * The use case of objects read without an event (backfill, reconcile --fix), per the contract's
 * "Objects read without an event": maps each object through the event mappers and the mapping,
 * leases its record and its parent (the live worker waits meanwhile), reads what the org holds,
 * skips records holding a write of the read's second or later and final states the object would
 * take back, and writes the rest parents first, stamped with their read time, Last_Stripe_Event_Id__c left as is and Sync_Status__c = Pending only on create,
 * through collections (SalesforceWriter) or one Bulk API 2.0 job per object (BulkWriter). What
 * landed is committed to the store, fenced by the leases.
 */
export async function syncObjects(
  objects: readonly ReadObject[],
  deps: ObjectSyncDeps,
  options: { via: "collections" | "bulk" },
): Promise<ObjectSyncReport> {
  const report: ObjectSyncReport = { results: [], bulkJobs: [], isLeaseLost: false };
  const candidates: Candidate[] = [];
  for (const { kind, object, readAt } of objects) {
    const objectName = OBJECT_OF_KIND[kind];
    const externalId = typeof object.id === "string" ? object.id : "(no id)";
    try {
      const mapped = mapReadObject(kind, object);
      if ("skip" in mapped) {
        report.results.push({
          kind,
          object: objectName,
          externalId,
          outcome: { status: "skipped", reason: "not_written", detail: mapped.detail },
        });
        continue;
      }
      const { record, isFinal } = mapped.write;
      candidates.push({ kind, readAt, record, isFinal, key: recordKey(record.object, record.externalId) });
    } catch (error) {
      const detail = (error as Error).message;
      report.results.push({
        kind,
        object: objectName,
        externalId,
        outcome: { status: "failed", reason: "unmappable_payload", detail, isRetryable: false },
      });
    }
  }
  if (candidates.length === 0) return report;
  const byKey = new Map(candidates.map((candidate) => [candidate.key, candidate]));

  const scope = new LeaseScope(deps.store, deps.recordLeases ?? OBJECT_SYNC_LEASES, deps.clock, deps.log);
  try {
    const wanted = [
      ...new Set(
        candidates.flatMap((c) =>
          c.record.customerId ? [c.key, customerKey(c.record.customerId)] : [c.key],
        ),
      ),
    ].sort();
    for (let i = 0; i < wanted.length; i += LEASE_ROUND) await scope.lease(wanted.slice(i, i + LEASE_ROUND));
    // Leases are taken in order, so a busy key held back the ones after it: those are tried one by one.
    for (const key of wanted) if (!scope.holdsAll([key])) await scope.lease([key]);
    const held = wanted.filter((key) => scope.holdsAll([key]));
    const states = await readOrgRecordStates(held, deps.reader, deps.mapping);

    const entries: WriteEntry[] = [];
    const stubs = new Map<string, WriteEntry>();
    const resultOf = (c: Candidate, outcome: ObjectOutcome): ObjectResult => ({
      kind: c.kind,
      object: c.record.object,
      externalId: c.record.externalId,
      outcome,
    });
    for (const candidate of byKey.values()) {
      const parent = candidate.record.customerId ? customerKey(candidate.record.customerId) : undefined;
      if (!scope.holdsAll(parent ? [candidate.key, parent] : [candidate.key])) {
        report.results.push(
          resultOf(candidate, {
            status: "skipped",
            reason: "busy",
            detail: "a live write held the record past the lease wait",
          }),
        );
        continue;
      }
      const state = states.get(candidate.key);
      const skipped = judgeRead(state, candidate.readAt, candidate.isFinal);
      if (skipped) {
        report.results.push(resultOf(candidate, skipped));
        continue;
      }
      const entry = entryOf(candidate, state, candidate.readAt);
      if (parent && !states.get(parent)?.exists && !byKey.has(parent)) {
        if (!stubs.has(parent)) stubs.set(parent, stubOf(parent));
        entry.parents.push(parent);
      } else if (parent && byKey.has(parent)) entry.parents.push(parent);
      entries.push(entry);
    }

    const context = {
      writer: deps.writer,
      mapping: deps.mapping,
      metrics: deps.metrics,
      states,
      fence: (keys: string[]) => scope.beginWrite(keys),
    };
    const all = [...stubs.values(), ...entries];
    let written: WriteEntry[] = all;
    if (options.via === "bulk" && deps.bulk) {
      const bulk = await writeBulkEntries(all, { ...context, bulk: deps.bulk, log: deps.log });
      report.bulkJobs.push(...bulk.jobs);
      written = [...all, ...bulk.fallbackStubs];
    } else {
      written = [...all, ...(await writeEntries(all, context))];
    }
    for (const entry of entries)
      report.results.push({
        kind: byKey.get(entry.key)?.kind ?? "customers",
        object: entry.object,
        externalId: entry.plan?.externalId ?? entry.key,
        outcome: outcomeOfEntry(entry, options.via),
      });

    const landed = written.filter((entry) => entry.result === "ok").map((entry) => entry.update);
    try {
      await scope.commit({ appliedEventIds: [], eventTtlSeconds: 1, records: landed });
    } catch (error) {
      report.isLeaseLost = true;
      deps.log.warn(
        "the record leases lapsed before the store commit; the writes landed, the store asks the org next time",
        { error: (error as Error).message },
      );
    }
  } finally {
    await scope.close();
  }
  return report;
}

/** A Stripe event's position in time: its `created` (unix seconds) and id. */
export interface EventStamp {
  created: number;
  eventId: string;
}

/**
 * What the sync remembers about one Salesforce record (object + External ID), so ordering and
 * parent checks cost no Salesforce query.
 */
export interface RecordState {
  /** True once any write of the record (a parent stub included) was accepted by Salesforce. */
  isWritten: boolean;
  /**
   * True once the record reached a state no later event takes back: a deleted subscription
   * (canceled), a deleted customer, a Succeeded payment.
   */
  isFinal: boolean;
  /** The newest event whose own fields were applied (ordering of the object's fields). */
  applied?: EventStamp;
  /** What Last_Stripe_Event_Id__c / Last_Stripe_Event_At__c hold (newest of every applied event). */
  stamp?: EventStamp;
}

/** A change to one record's state after Salesforce accepted it; merged monotonically by the store. */
export interface RecordUpdate {
  /** Record key, `<default object name>:<external id>`. */
  key: string;
  /** Marks the record final (never cleared). */
  isFinal?: boolean;
  /**
   * Replaces `applied` when newer or of the same second, or when this update makes the record
   * final; an older one from a racing worker is ignored.
   */
  applied?: EventStamp;
  /** Replaces `stamp` when newer or of the same second. */
  stamp?: EventStamp;
}

/** One batch's bookkeeping, written at once after its Salesforce calls. */
export interface StoreCommit {
  /** Event ids now applied (their second delivery is a duplicate). */
  appliedEventIds: string[];
  /** How long applied event ids are remembered, seconds (default 35 days, beyond Stripe's 30 of retries). */
  eventTtlSeconds: number;
  records: RecordUpdate[];
}

/** How long a lease lives and how long to wait for a busy one. */
export interface LeaseOptions {
  /**
   * Lifetime of each lease (and of each renewal), ms: bounds how long a worker that died holding
   * it blocks its records.
   */
  ttlMs: number;
  /** How long to keep retrying keys held by someone else (every 25 ms) before giving up on them, ms. */
  waitMs: number;
}

/** The leases one `acquireRecordLeases` call took. */
export interface RecordLeases {
  /** The keys now held by this caller: those asked, minus the ones still busy after `waitMs`. */
  readonly acquired: ReadonlySet<string>;
  /** Gives every lease of this call that is still ours `ttlMs` more from now (a long batch calls it). */
  renew(): Promise<void>;
  /**
   * Gives back every lease of this call that is still ours (one that ran out and was taken by
   * someone else is left alone). Idempotent.
   */
  release(): Promise<void>;
}

/** How often keys held by someone else are tried again while waiting for them, ms. */
export const LEASE_RETRY_INTERVAL_MS = 25;

/**
 * Acquires `keys` in one global order (sorted), each holder taking a prefix and waiting on the first
 * key someone else holds: two batches that want overlapping records then queue one behind the
 * other instead of each holding part of what the other needs (no hold-and-wait deadlock). Tries
 * every LEASE_RETRY_INTERVAL_MS until all are acquired or `waitMs` (wall time) is spent.
 * `tryInOrder` gets the keys not acquired yet, in order, and returns how many of them, from the
 * first, it acquired.
 */
export async function pollForLeases(
  keys: ReadonlySet<string>,
  waitMs: number,
  acquired: Set<string>,
  tryInOrder: (missing: string[]) => Promise<number>,
): Promise<void> {
  const ordered = [...keys].sort();
  const deadline = performance.now() + Math.max(0, waitMs);
  for (;;) {
    const missing = ordered.filter((key) => !acquired.has(key));
    if (missing.length === 0) return;
    const count = await tryInOrder(missing);
    for (const key of missing.slice(0, count)) acquired.add(key);
    if (acquired.size >= keys.size) return;
    const left = deadline - performance.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(LEASE_RETRY_INTERVAL_MS, left)));
  }
}

/**
 * The sync's memory: applied event ids (with a TTL), per-record state, and per-record leases.
 * Batched, so a batch of events costs a few round trips: applied ids, leases, applied ids again,
 * record states, commit, lease release.
 */
export interface SyncStore {
  /** The subset of `eventIds` already applied. */
  findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>>;
  /** States of the records named by `keys`; a record never written is absent from the map. */
  getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>>;
  /** Marks events applied and merges record updates, atomically. */
  commit(commit: StoreCommit): Promise<void>;
  /**
   * Takes an exclusive lease on each record key (the keys `getRecordStates` uses) that no one
   * else holds, waiting up to `waitMs` for busy ones; a lease held by someone else is never
   * taken over before it runs out. A batch holds its leases from reading record states to
   * committing them, so two batches never write one record at the same time. Not reentrant: a
   * key held by an earlier call of the same process is busy too.
   */
  acquireRecordLeases(keys: readonly string[], options: LeaseOptions): Promise<RecordLeases>;
}

/** Default lifetime of per-record state, refreshed on each write: long, since it guards Completed and final states. */
export const DEFAULT_RECORD_TTL_SECONDS = 400 * 86400;

/** The store key of a record. */
export function recordKey(object: string, externalId: string): string {
  return `${object}:${externalId}`;
}

/** Merges `update` into `state` with the store's monotonic rules (shared by every store). */
export function mergeRecordState(state: RecordState | undefined, update: RecordUpdate): RecordState {
  const merged: RecordState = { ...(state ?? { isWritten: false, isFinal: false }), isWritten: true };
  const becomesFinal = update.isFinal === true && !merged.isFinal;
  if (update.isFinal) merged.isFinal = true;
  if (
    update.applied &&
    (becomesFinal || !merged.applied || update.applied.created >= merged.applied.created)
  ) {
    merged.applied = update.applied;
  }
  if (update.stamp && (!merged.stamp || update.stamp.created >= merged.stamp.created))
    merged.stamp = update.stamp;
  return merged;
}

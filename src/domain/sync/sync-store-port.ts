/** A Stripe event's position in time: its `created` (unix seconds) and id. */
export interface EventStamp {
  created: number;
  eventId: string;
}

/**
 * What is known about one Salesforce record (object + External ID) that decides what a write may
 * change: the fields the contract calls the record's order and final state.
 */
export interface RecordState {
  /** The org has the record (a parent stub included). */
  exists: boolean;
  /** Deleted customer, canceled subscription, Succeeded payment: no non-final event takes it back. */
  isFinal: boolean;
  /** What Last_Stripe_Event_Id__c / Last_Stripe_Event_At__c hold: the newest event applied to the record. */
  last?: EventStamp;
  /** Checkout_Session_Id__c, once checkout.session.completed set Sync_Status__c = Completed. */
  completedBy?: string;
}

/** A change to one record's state after Salesforce accepted a write; merged by `mergeRecordState`. */
export interface RecordUpdate {
  /** Record key, `<default object name>:<external id>`. */
  key: string;
  /** Marks the record final (never cleared). */
  isFinal?: boolean;
  /** The event now in Last_Stripe_Event_*; an older one from a racing writer is ignored. */
  last?: EventStamp;
  /** The checkout session that completed the record. */
  completedBy?: string;
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
  /** How long to keep retrying keys held by someone else before giving up on them, ms. */
  waitMs: number;
}

/**
 * One batch's record leases, under one random token. A batch holds a lease on every record it
 * touches from reading its state to committing it, so two batches never write one record at the
 * same time; the write and the commit are fenced by the leases, so a batch that lost one (Redis
 * stalled past the lease lifetime, a key evicted) writes and commits nothing.
 */
export interface RecordLeases {
  /** The keys this holder holds now. */
  readonly held: ReadonlySet<string>;
  /**
   * Takes a lease on each of `keys` that no one else holds, in one global key order, waiting up
   * to `waitMs` for busy ones; a lease held by someone else is never taken over before it runs out.
   * Keys still busy after the wait are simply not held. Not reentrant across holders.
   */
  acquire(keys: readonly string[]): Promise<void>;
  /** Gives every lease still ours `ttlMs` more from now. */
  renew(): Promise<void>;
  /**
   * The fence before a write: checks that every lease is still ours (else throws a
   * RetryableSyncError `lease_lost` and marks nothing), renews them all, and marks `keys` as being
   * written: until a commit clears the mark, the store reports those records as unknown, so if the
   * writer dies between Salesforce's answer and its commit the next batch asks the org.
   */
  beginWrite(keys: readonly string[]): Promise<void>;
  /**
   * The fenced commit: applied atomically only while the lease of every record in `commit.records`
   * is still ours (else throws `lease_lost` and changes nothing); clears those records' write marks.
   */
  commit(commit: StoreCommit): Promise<void>;
  /** Gives back every lease still ours (one that ran out and was taken by someone else is left alone). Idempotent. */
  release(): Promise<void>;
}

/**
 * The sync's memory of Salesforce, a cache: applied event ids (with a TTL), per-record state and
 * per-record leases. Losing any of it costs reads of the org, never a wrong write. Batched, so a
 * batch of events costs a few round trips. Implemented on Redis and in memory (data-access/store);
 * one table of ordering cases runs against both and the domain rule.
 */
export interface SyncStore {
  /** The subset of `eventIds` already applied. */
  findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>>;
  /**
   * States of the records named by `keys`. A record the store does not know, or one marked as
   * being written by a batch that never committed, is absent from the map: ask the org.
   */
  getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>>;
  /** Marks events applied and merges record updates (`mergeRecordState`), atomically, without a fence. */
  commit(commit: StoreCommit): Promise<void>;
  /** A lease holder for one batch. */
  openLeases(options: LeaseOptions): RecordLeases;
}

/** The store key of a record. */
export function recordKey(object: string, externalId: string): string {
  return `${object}:${externalId}`;
}

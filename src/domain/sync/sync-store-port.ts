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

/**
 * The sync's memory: applied event ids (with a TTL), per-record state, and per-record leases.
 * Batched, so a batch of events costs a few round trips. Implemented on Redis and in memory
 * (data-access/store); one table of ordering cases runs against both and the domain rule.
 */
export interface SyncStore {
  /** The subset of `eventIds` already applied. */
  findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>>;
  /** States of the records named by `keys`; a record the store does not know is absent from the map. */
  getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>>;
  /** Marks events applied and merges record updates (`mergeRecordState`), atomically. */
  commit(commit: StoreCommit): Promise<void>;
  /**
   * Takes an exclusive lease on each record key that no one else holds, waiting up to `waitMs`
   * for busy ones; a lease held by someone else is never taken over before it runs out. A batch
   * holds its leases from reading record states to committing them, so two batches never write
   * one record at the same time. Not reentrant: a key held by an earlier call of the same process
   * is busy too.
   */
  acquireRecordLeases(keys: readonly string[], options: LeaseOptions): Promise<RecordLeases>;
}

/** The store key of a record. */
export function recordKey(object: string, externalId: string): string {
  return `${object}:${externalId}`;
}

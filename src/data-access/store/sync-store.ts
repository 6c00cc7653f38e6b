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

/**
 * The sync's memory: applied event ids (with a TTL) and per-record state. Batched, so a batch of
 * events costs three round trips: applied ids, record states, commit.
 */
export interface SyncStore {
  /** The subset of `eventIds` already applied. */
  findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>>;
  /** States of the records named by `keys`; a record never written is absent from the map. */
  getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>>;
  /** Marks events applied and merges record updates, atomically. */
  commit(commit: StoreCommit): Promise<void>;
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

import type { Metrics } from "../../shared/metrics.js";
import type { Mapping } from "./mapping.js";
import { readOrgRecordStates } from "./org-record-states.js";
import type { SalesforceReader } from "./salesforce-port.js";
import type { RecordState, RecordUpdate, SyncStore } from "./sync-store-port.js";

/** Where record states come from: the store (a cache) and the org (the truth). */
export interface RecordStateSources {
  store: SyncStore;
  reader: SalesforceReader;
  mapping: Mapping;
  metrics: Metrics;
}

/**
 * The states of one batch's records. The store answers first; a record it does not know (a miss,
 * an evicted key, a new Redis, a write that never committed) or one that `mustAskOrg` names (a
 * redelivered event's, whose earlier attempt may have written) is read from the org, in one query
 * per object. What the org answered warms the store at the batch's commit.
 */
export class RecordStates {
  private readonly states = new Map<string, RecordState>();
  private readonly loaded = new Set<string>();
  private readonly fromOrg = new Map<string, RecordState>();

  constructor(
    private readonly sources: RecordStateSources,
    private readonly mustAskOrg: (key: string) => boolean,
  ) {}

  /** Loads the states of `keys` not loaded yet. */
  async load(keys: Iterable<string>): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.loaded.has(key));
    if (missing.length === 0) return;
    for (const key of missing) this.loaded.add(key);
    const cached = await this.sources.store.getRecordStates(missing);
    const misses = missing.filter((key) => !cached.has(key));
    const redelivered = missing.filter((key) => cached.has(key) && this.mustAskOrg(key));
    for (const [key, state] of cached) if (!redelivered.includes(key)) this.states.set(key, state);
    const toAsk = [...misses, ...redelivered];
    if (toAsk.length === 0) return;
    const { metrics } = this.sources;
    if (misses.length > 0) metrics.orgRecordReads.inc({ reason: "cache_miss" }, misses.length);
    if (redelivered.length > 0) metrics.orgRecordReads.inc({ reason: "redelivery" }, redelivered.length);
    const answered = await readOrgRecordStates(toAsk, this.sources.reader, this.sources.mapping);
    for (const [key, state] of answered) {
      this.states.set(key, state);
      this.fromOrg.set(key, state);
    }
  }

  /** The state of a loaded record; undefined when neither the store nor the org has it. */
  get(key: string): RecordState | undefined {
    return this.states.get(key);
  }

  /** All loaded states, by key. */
  all(): ReadonlyMap<string, RecordState> {
    return this.states;
  }

  /** What the org answered, as store updates that warm the cache. */
  warmUpdates(): RecordUpdate[] {
    return [...this.fromOrg].map(([key, state]) => ({
      key,
      ...(state.isFinal ? { isFinal: true } : {}),
      ...(state.last ? { last: state.last } : {}),
      ...(state.completedBy === undefined ? {} : { completedBy: state.completedBy }),
    }));
  }
}

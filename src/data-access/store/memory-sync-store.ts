import { mergeRecordState } from "../../domain/sync/ordering.js";
import type {
  LeaseOptions,
  RecordLeases,
  RecordState,
  StoreCommit,
  SyncStore,
} from "../../domain/sync/sync-store-port.js";
import { systemClock, type Clock } from "../../shared/clock.js";
import { DEFAULT_RECORD_TTL_SECONDS, pollForLeases } from "./poll-for-leases.js";
import { leaseLost } from "./store-errors.js";

/** In-process SyncStore for local mode and tests: the Redis store's semantics, lost on restart. */
export class MemorySyncStore implements SyncStore {
  private readonly events = new Map<string, number>();
  private readonly records = new Map<string, { state: RecordState; expiresAt: number }>();
  /** Records marked as being written by a batch that has not committed yet. */
  private readonly beingWritten = new Set<string>();
  /** Record key -> the holder's token and when its lease runs out (store clock, ms). */
  private readonly leases = new Map<string, { token: object; expiresAt: number }>();
  private readonly clock: Clock;
  private readonly recordTtlSeconds: number;

  /** `recordTtlSeconds` defaults to 400 days; `clock` to the wall clock. */
  constructor(options: { clock?: Clock; recordTtlSeconds?: number } = {}) {
    this.clock = options.clock ?? systemClock;
    this.recordTtlSeconds = options.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS;
  }

  /** Forgets everything, as a flushed Redis would. */
  clear(): void {
    this.events.clear();
    this.records.clear();
    this.beingWritten.clear();
    this.leases.clear();
  }

  async findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>> {
    const now = this.clock.now();
    return new Set(eventIds.filter((id) => (this.events.get(id) ?? 0) > now));
  }

  async getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>> {
    const now = this.clock.now();
    const states = new Map<string, RecordState>();
    for (const key of keys) {
      const entry = this.records.get(key);
      if (entry && entry.expiresAt > now && !this.beingWritten.has(key))
        states.set(key, structuredClone(entry.state));
    }
    return states;
  }

  async commit(commit: StoreCommit): Promise<void> {
    const now = this.clock.now();
    for (const id of commit.appliedEventIds) this.events.set(id, now + commit.eventTtlSeconds * 1000);
    for (const update of commit.records) {
      const entry = this.records.get(update.key);
      const current = entry && entry.expiresAt > now ? entry.state : undefined;
      this.records.set(update.key, {
        state: mergeRecordState(current, update),
        expiresAt: now + this.recordTtlSeconds * 1000,
      });
      this.beingWritten.delete(update.key);
    }
    this.dropExpired(now);
  }

  openLeases(options: LeaseOptions): RecordLeases {
    const token = {};
    const held = new Set<string>();
    const isOurs = (key: string) => {
      const lease = this.leases.get(key);
      return lease?.token === token && lease.expiresAt > this.clock.now();
    };
    return {
      held,
      acquire: async (keys) => {
        const acquired = new Set<string>();
        await pollForLeases(
          new Set(keys.filter((key) => !held.has(key))),
          options.waitMs,
          acquired,
          async (missing) => {
            const now = this.clock.now();
            let count = 0;
            for (const key of missing) {
              const lease = this.leases.get(key);
              if (lease && lease.token !== token && lease.expiresAt > now) break;
              this.leases.set(key, { token, expiresAt: now + options.ttlMs });
              count += 1;
            }
            return count;
          },
          this.clock,
        );
        for (const key of acquired) held.add(key);
      },
      renew: async () => {
        const expiresAt = this.clock.now() + options.ttlMs;
        for (const key of held)
          if (isOurs(key)) (this.leases.get(key) as { expiresAt: number }).expiresAt = expiresAt;
      },
      beginWrite: async (keys) => {
        if (![...held].every(isOurs)) throw leaseLost();
        const expiresAt = this.clock.now() + options.ttlMs;
        for (const key of held) (this.leases.get(key) as { expiresAt: number }).expiresAt = expiresAt;
        for (const key of keys) this.beingWritten.add(key);
      },
      commit: async (commit) => {
        if (!commit.records.every((update) => held.has(update.key) && isOurs(update.key))) throw leaseLost();
        await this.commit(commit);
      },
      release: async () => {
        for (const key of held) if (this.leases.get(key)?.token === token) this.leases.delete(key);
      },
    };
  }

  /** Bounds memory in long local runs. */
  private dropExpired(now: number): void {
    if (this.events.size < 100_000) return;
    for (const [id, expiresAt] of this.events) if (expiresAt <= now) this.events.delete(id);
  }
}

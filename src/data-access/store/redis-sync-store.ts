import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type {
  EventStamp,
  LeaseOptions,
  RecordLeases,
  RecordState,
  StoreCommit,
  SyncStore,
} from "../../domain/sync/sync-store-port.js";
import { systemClock, type Clock } from "../../shared/clock.js";
import { DEFAULT_RECORD_TTL_SECONDS, pollForLeases } from "./poll-for-leases.js";
import { leaseLost, toStoreError } from "./store-errors.js";
import {
  ACQUIRE_IN_ORDER_SCRIPT,
  BEGIN_WRITE_SCRIPT,
  COMMIT_SCRIPT,
  FENCED_COMMIT_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_SCRIPT,
} from "./redis-store-scripts.js";

function stampOf(created: string | undefined, eventId: string | undefined): EventStamp | undefined {
  return created !== undefined && eventId !== undefined ? { created: Number(created), eventId } : undefined;
}

/** Options of the Redis store. */
export interface RedisSyncStoreOptions {
  /** Prefix of every key (default `sfsync:`); the worker adds the org id, so two orgs never share state. */
  keyPrefix?: string;
  /** Lifetime of a record's state, refreshed on each write (default 400 days). */
  recordTtlSeconds?: number;
  clock?: Clock;
}

/**
 * SyncStore on Redis. Keys: `<prefix>event:<evt id>` (string, TTL = idempotency TTL),
 * `<prefix>record:<object>:<external id>` (hash w/f/lc/le/ck/d: exists, final, last event's created
 * and id, completing checkout session, being written; TTL refreshed on each write) and
 * `<prefix>lease:<object>:<external id>` (string: the holder's random token, PX = lease TTL). Every
 * key has a TTL, so the store works as a cache under any eviction policy.
 */
export class RedisSyncStore implements SyncStore {
  private readonly basePrefix: string;
  private keyPrefix: string;
  private readonly recordTtlSeconds: number;
  private readonly clock: Clock;

  /** The client is the caller's to close; give it a `commandTimeout` so a stalled Redis fails fast. */
  constructor(
    private readonly redis: Redis,
    options: RedisSyncStoreOptions = {},
  ) {
    this.basePrefix = options.keyPrefix ?? "sfsync:";
    this.keyPrefix = this.basePrefix;
    this.recordTtlSeconds = options.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Puts `scope` (the org id) into every key after the prefix, so that a Redis pointed at another
   * org, or at a refreshed sandbox, never takes one org's events for the other's. Call it before use.
   */
  scopeTo(scope: string): void {
    this.keyPrefix = `${this.basePrefix}${scope}:`;
  }

  private eventKey(id: string): string {
    return `${this.keyPrefix}event:${id}`;
  }

  private recordKey(key: string): string {
    return `${this.keyPrefix}record:${key}`;
  }

  private leaseKey(key: string): string {
    return `${this.keyPrefix}lease:${key}`;
  }

  async findAppliedEvents(eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    try {
      const values = await this.redis.mget(...eventIds.map((id) => this.eventKey(id)));
      return new Set(eventIds.filter((_, i) => values[i] !== null));
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async getRecordStates(keys: readonly string[]): Promise<Map<string, RecordState>> {
    const states = new Map<string, RecordState>();
    if (keys.length === 0) return states;
    let results: [Error | null, unknown][] | null;
    try {
      const pipeline = this.redis.pipeline();
      for (const key of keys) pipeline.hgetall(this.recordKey(key));
      results = await pipeline.exec();
    } catch (error) {
      throw toStoreError(error);
    }
    keys.forEach((key, i) => {
      const [error, value] = results?.[i] ?? [new Error("no reply"), null];
      if (error) throw toStoreError(error);
      const hash = value as Record<string, string>;
      // Unknown, or marked by a writer that never committed: the org decides.
      if (hash.w !== "1" || hash.d !== undefined) return;
      const state: RecordState = { exists: true, isFinal: hash.f === "1" };
      const last = stampOf(hash.lc, hash.le);
      if (last) state.last = last;
      if (hash.ck) state.completedBy = hash.ck;
      states.set(key, state);
    });
    return states;
  }

  async commit(commit: StoreCommit): Promise<void> {
    await this.runCommit(COMMIT_SCRIPT, "", [], commit);
  }

  /** Runs a (fenced) commit script; returns false when fenced out. */
  private async runCommit(
    script: string,
    token: string,
    leaseKeys: readonly string[],
    commit: StoreCommit,
  ): Promise<boolean> {
    if (commit.records.length === 0 && commit.appliedEventIds.length === 0) return true;
    const updates = commit.records.map((update) => ({
      ...(update.isFinal ? { f: 1 } : {}),
      ...(update.last ? { lc: update.last.created, le: update.last.eventId } : {}),
      ...(update.completedBy ? { ck: update.completedBy } : {}),
    }));
    const keys = [
      ...leaseKeys.map((key) => this.leaseKey(key)),
      ...commit.records.map((update) => this.recordKey(update.key)),
      ...commit.appliedEventIds.map((id) => this.eventKey(id)),
    ];
    try {
      const answer = await this.redis.eval(
        script,
        keys.length,
        ...keys,
        token,
        leaseKeys.length,
        commit.eventTtlSeconds,
        this.recordTtlSeconds,
        // cjson decodes [] as an empty table either way; an object would not iterate with #.
        updates.length === 0 ? "[]" : JSON.stringify(updates),
      );
      return Number(answer) === 1;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  openLeases(options: LeaseOptions): RecordLeases {
    const token = randomUUID();
    const held = new Set<string>();
    let released = false;
    const onLeases = (script: string, ...args: (string | number)[]) =>
      this.runOnLeases(script, [...held], token, ...args);
    return {
      held,
      acquire: async (keys) => {
        const wanted = new Set(keys.filter((key) => !held.has(key)));
        if (wanted.size === 0) return;
        const acquired = new Set<string>();
        try {
          await pollForLeases(
            wanted,
            options.waitMs,
            acquired,
            async (missing) =>
              Number(
                await this.redis.eval(
                  ACQUIRE_IN_ORDER_SCRIPT,
                  missing.length,
                  ...missing.map((key) => this.leaseKey(key)),
                  token,
                  options.ttlMs,
                ),
              ),
            this.clock,
          );
        } catch (error) {
          // A SET may have landed without its reply: give back whatever holds our token.
          await this.runOnLeases(RELEASE_SCRIPT, [...wanted], token).catch(() => undefined);
          throw toStoreError(error);
        }
        for (const key of acquired) held.add(key);
      },
      renew: async () => {
        if (!released) await onLeases(RENEW_SCRIPT, options.ttlMs);
      },
      beginWrite: async (keys) => {
        const leaseKeys = [...held].map((key) => this.leaseKey(key));
        const recordKeys = keys.map((key) => this.recordKey(key));
        let answer: unknown;
        try {
          answer = await this.redis.eval(
            BEGIN_WRITE_SCRIPT,
            leaseKeys.length + recordKeys.length,
            ...leaseKeys,
            ...recordKeys,
            token,
            leaseKeys.length,
            options.ttlMs,
            this.recordTtlSeconds,
          );
        } catch (error) {
          throw toStoreError(error);
        }
        if (Number(answer) !== 1) throw leaseLost();
      },
      commit: async (commit) => {
        const fence = commit.records.map((update) => update.key);
        if (fence.some((key) => !held.has(key))) throw leaseLost();
        if (!(await this.runCommit(FENCED_COMMIT_SCRIPT, token, fence, commit))) throw leaseLost();
      },
      release: async () => {
        if (released) return;
        await onLeases(RELEASE_SCRIPT);
        released = true;
      },
    };
  }

  /** Runs a compare-token script over lease keys; store errors become retryable. */
  private async runOnLeases(script: string, keys: string[], ...args: (string | number)[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.redis.eval(script, keys.length, ...keys.map((key) => this.leaseKey(key)), ...args);
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

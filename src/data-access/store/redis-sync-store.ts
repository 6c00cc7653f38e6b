import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { RetryableSyncError } from "../../shared/errors.js";
import {
  DEFAULT_RECORD_TTL_SECONDS,
  pollForLeases,
  type EventStamp,
  type LeaseOptions,
  type RecordLeases,
  type RecordState,
  type StoreCommit,
  type SyncStore,
} from "./sync-store.js";

/**
 * Applies a commit atomically with the same monotonic merge as `mergeRecordState`, so two workers
 * racing on one record never move its ordering backwards. KEYS: record keys, then event keys.
 * ARGV: event TTL, record TTL, JSON array of updates aligned with the record keys.
 */
const COMMIT_SCRIPT = `
local eventTtl = tonumber(ARGV[1])
local recordTtl = tonumber(ARGV[2])
local updates = cjson.decode(ARGV[3])
local n = #updates
for i = 1, n do
  local key = KEYS[i]
  local u = updates[i]
  local cur = redis.call('HMGET', key, 'f', 'ac', 'sc')
  local becomesFinal = u.f == 1 and cur[1] ~= '1'
  local fields = {'w', '1'}
  if u.f == 1 then fields[#fields + 1] = 'f'; fields[#fields + 1] = '1' end
  if u.ac and (becomesFinal or not cur[2] or u.ac >= tonumber(cur[2])) then
    fields[#fields + 1] = 'ac'; fields[#fields + 1] = tostring(u.ac)
    fields[#fields + 1] = 'ae'; fields[#fields + 1] = u.ae
  end
  if u.sc and (not cur[3] or u.sc >= tonumber(cur[3])) then
    fields[#fields + 1] = 'sc'; fields[#fields + 1] = tostring(u.sc)
    fields[#fields + 1] = 'se'; fields[#fields + 1] = u.se
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, recordTtl)
end
for i = n + 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EX', eventTtl)
end
return n
`;

/** Deletes each lease key (KEYS) that still holds our token (ARGV[1]): never another holder's. */
// Takes the lease keys in the order given until one is held by someone else; returns how many.
const ACQUIRE_IN_ORDER_SCRIPT = `
for i = 1, #KEYS do
  if not redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2], 'NX') then
    if redis.call('GET', KEYS[i]) ~= ARGV[1] then return i - 1 end
  end
end
return #KEYS`;
const RELEASE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n
`;

/** Sets the TTL (ARGV[2], ms) of each lease key (KEYS) that still holds our token (ARGV[1]). */
const RENEW_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    n = n + 1
  end
end
return n
`;

/** Turns a Redis failure into a retryable error: the batch is kept and tried again. */
function toStoreError(error: unknown): RetryableSyncError {
  return new RetryableSyncError("store_unavailable", `sync store: ${(error as Error).message}`, {
    cause: error,
  });
}

function stampOf(created: string | undefined, eventId: string | undefined): EventStamp | undefined {
  return created !== undefined && eventId !== undefined ? { created: Number(created), eventId } : undefined;
}

/**
 * SyncStore on Redis. Keys: `<prefix>event:<evt id>` (string, TTL = idempotency TTL),
 * `<prefix>record:<object>:<external id>` (hash w/f/ac/ae/sc/se, TTL refreshed on each write) and
 * `<prefix>lease:<object>:<external id>` (string: the holder's random token, PX = lease TTL).
 */
export class RedisSyncStore implements SyncStore {
  private readonly keyPrefix: string;
  private readonly recordTtlSeconds: number;

  /** `keyPrefix` defaults to `sfsync:`, `recordTtlSeconds` to 400 days. The client is the caller's to close. */
  constructor(
    private readonly redis: Redis,
    options: { keyPrefix?: string; recordTtlSeconds?: number } = {},
  ) {
    this.keyPrefix = options.keyPrefix ?? "sfsync:";
    this.recordTtlSeconds = options.recordTtlSeconds ?? DEFAULT_RECORD_TTL_SECONDS;
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
      if (hash.w !== "1") return;
      const state: RecordState = { isWritten: true, isFinal: hash.f === "1" };
      const applied = stampOf(hash.ac, hash.ae);
      const stamp = stampOf(hash.sc, hash.se);
      if (applied) state.applied = applied;
      if (stamp) state.stamp = stamp;
      states.set(key, state);
    });
    return states;
  }

  async commit(commit: StoreCommit): Promise<void> {
    if (commit.records.length === 0 && commit.appliedEventIds.length === 0) return;
    const updates = commit.records.map((update) => ({
      ...(update.isFinal ? { f: 1 } : {}),
      ...(update.applied ? { ac: update.applied.created, ae: update.applied.eventId } : {}),
      ...(update.stamp ? { sc: update.stamp.created, se: update.stamp.eventId } : {}),
    }));
    const keys = [
      ...commit.records.map((update) => this.recordKey(update.key)),
      ...commit.appliedEventIds.map((id) => this.eventKey(id)),
    ];
    try {
      await this.redis.eval(
        COMMIT_SCRIPT,
        keys.length,
        ...keys,
        commit.eventTtlSeconds,
        this.recordTtlSeconds,
        // cjson decodes [] as an empty table either way; an object would not iterate with #.
        updates.length === 0 ? "[]" : JSON.stringify(updates),
      );
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async acquireRecordLeases(keys: readonly string[], options: LeaseOptions): Promise<RecordLeases> {
    const token = randomUUID();
    const wanted = new Set(keys);
    const acquired = new Set<string>();
    try {
      await pollForLeases(wanted, options.waitMs, acquired, async (missing) =>
        Number(
          await this.redis.eval(
            ACQUIRE_IN_ORDER_SCRIPT,
            missing.length,
            ...missing.map((key) => this.leaseKey(key)),
            token,
            options.ttlMs,
          ),
        ),
      );
    } catch (error) {
      // A SET may have landed without its reply: give back whatever holds our token.
      await this.runOnLeases(RELEASE_SCRIPT, [...wanted], token).catch(() => undefined);
      throw toStoreError(error);
    }
    let released = false;
    return {
      acquired,
      renew: async () => {
        if (!released) await this.runOnLeases(RENEW_SCRIPT, [...acquired], token, options.ttlMs);
      },
      release: async () => {
        if (released) return;
        await this.runOnLeases(RELEASE_SCRIPT, [...acquired], token);
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

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
import { RetryableSyncError } from "../../shared/errors.js";
import { DEFAULT_RECORD_TTL_SECONDS, pollForLeases } from "./poll-for-leases.js";

/**
 * Applies a commit atomically with the same merge as `mergeRecordState` (domain/sync/ordering.ts;
 * test/sync/ordering-cases.ts checks both against one table), so two workers racing on one record
 * never move its ordering backwards. KEYS: record keys, then event keys. ARGV: event TTL, record
 * TTL, JSON array of updates aligned with the record keys.
 */
const COMMIT_SCRIPT = `
local eventTtl = tonumber(ARGV[1])
local recordTtl = tonumber(ARGV[2])
local updates = cjson.decode(ARGV[3])
local n = #updates
for i = 1, n do
  local key = KEYS[i]
  local u = updates[i]
  local cur = redis.call('HMGET', key, 'w', 'f', 'lc', 'le')
  local known = cur[1] == '1'
  local curFinal = cur[2] == '1'
  local upFinal = u.f == 1
  local fields = {'w', '1'}
  if u.lc then
    local verdict = 'apply'
    if known and cur[4] == u.le then verdict = 'duplicate'
    elseif not known then verdict = 'apply'
    elseif curFinal and not upFinal then verdict = 'stale'
    elseif upFinal and not curFinal then verdict = 'apply'
    elseif cur[3] and u.lc < tonumber(cur[3]) then verdict = 'stale' end
    if verdict == 'apply' then
      fields[#fields + 1] = 'lc'; fields[#fields + 1] = tostring(u.lc)
      fields[#fields + 1] = 'le'; fields[#fields + 1] = u.le
    end
  end
  if upFinal then fields[#fields + 1] = 'f'; fields[#fields + 1] = '1' end
  if u.ck then fields[#fields + 1] = 'ck'; fields[#fields + 1] = u.ck end
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
 * `<prefix>record:<object>:<external id>` (hash w/f/lc/le/ck: exists, final, last event's created and
 * id, completing checkout session; TTL refreshed on each write) and
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
      const state: RecordState = { exists: true, isFinal: hash.f === "1" };
      const last = stampOf(hash.lc, hash.le);
      if (last) state.last = last;
      if (hash.ck) state.completedBy = hash.ck;
      states.set(key, state);
    });
    return states;
  }

  async commit(commit: StoreCommit): Promise<void> {
    if (commit.records.length === 0 && commit.appliedEventIds.length === 0) return;
    const updates = commit.records.map((update) => ({
      ...(update.isFinal ? { f: 1 } : {}),
      ...(update.last ? { lc: update.last.created, le: update.last.eventId } : {}),
      ...(update.completedBy ? { ck: update.completedBy } : {}),
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

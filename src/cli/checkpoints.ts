import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";

/** How long a checkpoint is kept: a run interrupted longer ago than this starts over (every key has a TTL). */
export const CHECKPOINT_TTL_SECONDS = 14 * 86400;

/** Where long commands (replay, backfill) remember how far they got, by a name that describes the run. */
export interface Checkpoints {
  /** Where they live, for messages (`redis`, or a file path). */
  readonly where: string;
  get<T>(name: string): Promise<T | undefined>;
  set(name: string, value: unknown): Promise<void>;
  clear(name: string): Promise<void>;
}

/** Checkpoints in Redis under `<prefix>checkpoint:<name>`, each with CHECKPOINT_TTL_SECONDS. */
export function redisCheckpoints(redis: Redis, prefix: string): Checkpoints {
  const key = (name: string) => `${prefix}checkpoint:${name}`;
  return {
    where: "redis",
    async get<T>(name: string) {
      const text = await redis.get(key(name));
      return text === null ? undefined : (JSON.parse(text) as T);
    },
    async set(name, value) {
      await redis.set(key(name), JSON.stringify(value), "EX", CHECKPOINT_TTL_SECONDS);
    },
    async clear(name) {
      await redis.del(key(name));
    },
  };
}

/** Checkpoints as JSON files in `dir`: local mode without Redis, where the store lives in another process's memory. */
export function fileCheckpoints(dir: string): Checkpoints {
  const path = (name: string) => join(dir, `checkpoint-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);
  return {
    where: dir,
    async get<T>(name: string) {
      try {
        const saved = JSON.parse(readFileSync(path(name), "utf8")) as { value: T; savedAt: number };
        return Date.now() - saved.savedAt > CHECKPOINT_TTL_SECONDS * 1000 ? undefined : saved.value;
      } catch {
        return undefined;
      }
    },
    async set(name, value) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path(name), JSON.stringify({ value, savedAt: Date.now() }), { mode: 0o600 });
    },
    async clear(name) {
      rmSync(path(name), { force: true });
    },
  };
}

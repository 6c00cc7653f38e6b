import { sleep, systemClock, type Clock } from "../../shared/clock.js";

/** How often keys held by someone else are tried again while waiting for them, ms. */
export const LEASE_RETRY_INTERVAL_MS = 25;

/** Default lifetime of per-record state, refreshed on each write: long, since it guards final states. */
export const DEFAULT_RECORD_TTL_SECONDS = 400 * 86400;

/**
 * Acquires `keys` in one global order (sorted), each holder taking a prefix and waiting on the first
 * key someone else holds: two batches that want overlapping records then queue one behind the
 * other instead of each holding part of what the other needs (no hold-and-wait deadlock). Tries
 * every LEASE_RETRY_INTERVAL_MS until all are acquired or `waitMs` is spent. `tryInOrder` gets the
 * keys not acquired yet, in order, and returns how many of them, from the first, it acquired.
 */
export async function pollForLeases(
  keys: ReadonlySet<string>,
  waitMs: number,
  acquired: Set<string>,
  tryInOrder: (missing: string[]) => Promise<number>,
  clock: Clock = systemClock,
): Promise<void> {
  const ordered = [...keys].sort();
  const deadline = clock.now() + Math.max(0, waitMs);
  for (;;) {
    const missing = ordered.filter((key) => !acquired.has(key));
    if (missing.length === 0) return;
    const count = await tryInOrder(missing);
    for (const key of missing.slice(0, count)) acquired.add(key);
    if (acquired.size >= keys.size) return;
    const left = deadline - clock.now();
    if (left <= 0) return;
    await sleep(clock, Math.min(LEASE_RETRY_INTERVAL_MS, left));
  }
}

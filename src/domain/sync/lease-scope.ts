import { every, type Clock, type Timer } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { LeaseOptions, RecordLeases, StoreCommit, SyncStore } from "./sync-store-port.js";

/**
 * A batch holds a lease on every record it touches (parents included) from reading their states
 * to committing them, renewed every third of `ttlMs` while it runs and again (fenced) right before
 * each Salesforce write, so a write (bounded by the Salesforce client's request timeout, 20 s,
 * below `ttlMs`) never outlives its lease. `ttlMs` also bounds how long a worker that died holding
 * leases blocks those records; `waitMs` is how long a batch waits for records another batch holds
 * before retrying their events a little later as record_busy.
 */
export const DEFAULT_RECORD_LEASES: LeaseOptions = { ttlMs: 30_000, waitMs: 10_000 };

/** The record leases one batch holds; leases are taken in rounds as the batch learns its records. */
export class LeaseScope {
  private readonly leases: RecordLeases;
  private readonly renewal: Timer;

  constructor(
    store: SyncStore,
    options: LeaseOptions,
    clock: Clock,
    private readonly log: Logger,
  ) {
    this.leases = store.openLeases(options);
    this.renewal = every(clock, Math.max(1, options.ttlMs / 3), () => this.renew());
  }

  /** Leases the keys not held yet (waiting for busy ones); store failures throw. */
  async lease(keys: Iterable<string>): Promise<void> {
    await this.leases.acquire([...new Set(keys)]);
  }

  /** True when the batch holds every one of `keys`. */
  holdsAll(keys: readonly string[]): boolean {
    return keys.every((key) => this.leases.held.has(key));
  }

  /** The fence before a write: throws `lease_lost` unless every lease is still ours; marks `keys` as being written. */
  async beginWrite(keys: readonly string[]): Promise<void> {
    await this.leases.beginWrite(keys);
  }

  /** Commits to the store, fenced by the leases. */
  async commit(commit: StoreCommit): Promise<void> {
    await this.leases.commit(commit);
  }

  /** Stops renewing and gives the leases back; one the store fails to release runs out after its TTL. */
  async close(): Promise<void> {
    this.renewal.cancel();
    await this.leases.release().catch((error: unknown) => {
      this.log.warn("record lease release failed; it runs out after its TTL", {
        error: (error as Error).message,
      });
    });
  }

  private async renew(): Promise<void> {
    try {
      await this.leases.renew();
    } catch (error) {
      this.log.warn("record lease renewal failed", { error: (error as Error).message });
    }
  }
}

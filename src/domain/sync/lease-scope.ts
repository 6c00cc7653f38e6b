import { every, type Clock, type Timer } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { LeaseOptions, RecordLeases, SyncStore } from "./sync-store-port.js";

/**
 * A batch holds a lease on every record it touches (parents included) from reading their states
 * to committing them, renewed every third of `ttlMs` while it runs. `ttlMs` only bounds how long a
 * worker that died holding leases blocks those records; `waitMs` is how long a batch waits for
 * records another batch holds (normally for one batch's Salesforce calls) before retrying their
 * events later as record_busy. With `waitMs` no shorter than `ttlMs`, the messages of a worker
 * that died come back, wait out its leases and land, instead of going round the queue's backoff.
 */
export const DEFAULT_RECORD_LEASES: LeaseOptions = { ttlMs: 10_000, waitMs: 10_000 };

/** The record leases one batch holds; leases are taken in rounds as the batch learns its records. */
export class LeaseScope {
  private readonly leases: RecordLeases[] = [];
  private readonly held = new Set<string>();
  private readonly renewal: Timer;

  constructor(
    private readonly store: SyncStore,
    private readonly options: LeaseOptions,
    clock: Clock,
    private readonly log: Logger,
  ) {
    this.renewal = every(clock, Math.max(1, options.ttlMs / 3), () => this.renew());
  }

  /** Leases the keys not held yet (waiting up to waitMs for busy ones); store failures throw. */
  async lease(keys: Iterable<string>): Promise<void> {
    const missing = [...new Set(keys)].filter((key) => !this.held.has(key));
    if (missing.length === 0) return;
    const leases = await this.store.acquireRecordLeases(missing, this.options);
    this.leases.push(leases);
    for (const key of leases.acquired) this.held.add(key);
  }

  /** True when the batch holds every one of `keys`. */
  holdsAll(keys: readonly string[]): boolean {
    return keys.every((key) => this.held.has(key));
  }

  /** Stops renewing and gives the leases back; one the store fails to release runs out after its TTL. */
  async close(): Promise<void> {
    this.renewal.cancel();
    await Promise.all(
      this.leases.map((leases) =>
        leases.release().catch((error: unknown) => {
          this.log.warn("record lease release failed; it runs out after its TTL", {
            error: (error as Error).message,
          });
        }),
      ),
    );
  }

  private async renew(): Promise<void> {
    for (const leases of this.leases) {
      try {
        await leases.renew();
      } catch (error) {
        this.log.warn("record lease renewal failed", { error: (error as Error).message });
      }
    }
  }
}

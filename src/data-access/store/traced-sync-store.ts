import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { RecordLeases, SyncStore } from "../../domain/sync/sync-store-port.js";
import { inSpan } from "../../shared/in-span.js";
import { SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";

/**
 * The sync store with a client span per round trip (`store findAppliedEvents`, `store
 * leases.acquire`...), named by the port's operation and counting the keys it carries: one span
 * per Lua script or pipeline, where a Redis client instrumentation would show its commands.
 */
export function tracedSyncStore(store: SyncStore, tracer: Tracer, system: "redis" | "memory"): SyncStore {
  const traced = <T>(operation: string, keys: number, work: () => Promise<T>) =>
    inSpan(
      tracer,
      `store ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [SPAN_ATTRIBUTE.dbSystem]: system,
          [SPAN_ATTRIBUTE.dbOperation]: operation,
          [SPAN_ATTRIBUTE.storeKeys]: keys,
        },
      },
      work,
    );
  const tracedLeases = (leases: RecordLeases): RecordLeases => ({
    get held() {
      return leases.held;
    },
    acquire: (keys) => traced("leases.acquire", keys.length, () => leases.acquire(keys)),
    renew: () => traced("leases.renew", leases.held.size, () => leases.renew()),
    beginWrite: (keys) => traced("leases.beginWrite", keys.length, () => leases.beginWrite(keys)),
    commit: (commit) =>
      traced("leases.commit", commit.appliedEventIds.length + commit.records.length, () =>
        leases.commit(commit),
      ),
    release: () => traced("leases.release", leases.held.size, () => leases.release()),
  });
  return {
    findAppliedEvents: (ids) => traced("findAppliedEvents", ids.length, () => store.findAppliedEvents(ids)),
    getRecordStates: (keys) => traced("getRecordStates", keys.length, () => store.getRecordStates(keys)),
    commit: (commit) =>
      traced("commit", commit.appliedEventIds.length + commit.records.length, () => store.commit(commit)),
    openLeases: (options) => tracedLeases(store.openLeases(options)),
  };
}

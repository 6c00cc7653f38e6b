import { readFileSync } from "node:fs";
import { MemorySyncStore } from "../../../src/data-access/store/memory-sync-store.js";
import type { SyncStore } from "../../../src/domain/sync/sync-store-port.js";
import type { StripeObjectReader } from "../../../src/domain/sync/stripe-port.js";
import type { SyncItem } from "../../../src/domain/sync/sync-item.js";
import { systemClock, type Clock, type Timer } from "../../../src/shared/clock.js";
import type { StripeEvent } from "../../../src/domain/stripe-event.js";
import { defaultMapping, type Mapping } from "../../../src/domain/sync/mapping.js";
import {
  createEventSyncer,
  type EventOutcome,
  type EventSyncer,
} from "../../../src/domain/sync/sync-events.js";
import type { AcceptedMode } from "../../../src/domain/sync/screen-events.js";
import { createLogger } from "../../../src/shared/logger.js";
import { createMetrics, type Metrics } from "../../../src/shared/metrics.js";
import { FakeSalesforceWriter } from "./fake-salesforce-writer.js";

const FIXTURES = new URL("../../fixtures/stripe/", import.meta.url);

/** A silent logger for tests. */
export const log = createLogger({ silent: true });

/** Changes to a fixture event: envelope fields, and fields merged into data.object. */
export interface EventPatch {
  id?: string;
  created?: number;
  type?: string;
  object?: Record<string, unknown>;
}

/** Loads `test/fixtures/stripe/<name>.json` as a fresh event, with `patch` applied. */
export function loadEvent(name: string, patch: EventPatch = {}): StripeEvent {
  const event = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8")) as StripeEvent;
  if (patch.id) event.id = patch.id;
  if (patch.created !== undefined) event.created = patch.created;
  if (patch.type) event.type = patch.type;
  if (patch.object) Object.assign(event.data.object, patch.object);
  return event;
}

/**
 * A clock that runs at wall speed from a fixed start, moved forward at will by adding to `ms`; its
 * timers are real ones (lease waits are short).
 */
export class TestClock implements Clock {
  private readonly startedAt = performance.now();
  constructor(public ms = Date.UTC(2025, 0, 1, 12)) {}
  now(): number {
    return this.ms + Math.floor(performance.now() - this.startedAt);
  }
  setTimer(callback: () => void, ms: number): Timer {
    return systemClock.setTimer(callback, ms);
  }
}

/** Events as the worker hands them over: first deliveries unless `isRedelivery`. */
export function itemsOf(events: readonly StripeEvent[], isRedelivery = false): SyncItem[] {
  return events.map((event) => ({ event, isRedelivery, log }));
}

/** A syncer over a fake writer and a memory store, with everything reachable for assertions. */
export interface TestSync {
  syncer: EventSyncer;
  writer: FakeSalesforceWriter;
  store: SyncStore;
  metrics: Metrics;
  clock: TestClock;
  sync(...events: StripeEvent[]): Promise<EventOutcome[]>;
  /** Hands the events over as redeliveries (SQS ApproximateReceiveCount > 1). */
  syncRedelivered(...events: StripeEvent[]): Promise<EventOutcome[]>;
}

/** Creates a TestSync; options replace its parts. */
export function createTestSync(
  options: {
    store?: SyncStore;
    stripe?: StripeObjectReader;
    mapping?: Mapping;
    writer?: FakeSalesforceWriter;
    acceptedMode?: AcceptedMode;
  } = {},
): TestSync {
  const writer = options.writer ?? new FakeSalesforceWriter();
  const clock = new TestClock();
  const store = options.store ?? new MemorySyncStore({ clock });
  const metrics = createMetrics({ collectDefaults: false });
  const syncer = createEventSyncer({
    writer,
    reader: writer,
    store,
    stripe: options.stripe,
    mapping: options.mapping ?? defaultMapping(),
    metrics,
    clock,
    idempotencyTtlSeconds: 35 * 86400,
    acceptedMode: options.acceptedMode,
  });
  return {
    syncer,
    writer,
    store,
    metrics,
    clock,
    sync: (...events) => syncer.syncEvents(itemsOf(events), log),
    syncRedelivered: (...events) => syncer.syncEvents(itemsOf(events, true), log),
  };
}

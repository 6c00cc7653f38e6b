import type { RecordState, RecordUpdate } from "../../src/domain/sync/sync-store-port.js";

/** One case of the ordering rules: updates merged in order, and the state they must leave. */
export interface OrderingCase {
  name: string;
  updates: Omit<RecordUpdate, "key">[];
  expected: RecordState;
}

const at = (created: number, eventId: string) => ({ created, eventId });

/**
 * The contract's ordering rules as one table. It runs against the domain's `mergeRecordState`,
 * the memory store and the Redis store's Lua script (test/sync/sync-store.test.ts), so the copies
 * cannot disagree.
 */
export const ORDERING_CASES: OrderingCase[] = [
  {
    name: "a first event sets the last event",
    updates: [{ last: at(100, "evt_a") }],
    expected: { exists: true, isFinal: false, last: at(100, "evt_a") },
  },
  {
    name: "an older event from a racing writer changes nothing",
    updates: [{ last: at(200, "evt_b") }, { last: at(100, "evt_a") }],
    expected: { exists: true, isFinal: false, last: at(200, "evt_b") },
  },
  {
    name: "an event of the same second wins (delivery order)",
    updates: [{ last: at(100, "evt_a") }, { last: at(100, "evt_b") }],
    expected: { exists: true, isFinal: false, last: at(100, "evt_b") },
  },
  {
    name: "the same event twice leaves the record as once",
    updates: [{ last: at(100, "evt_a") }, { last: at(300, "evt_b") }, { last: at(100, "evt_b") }],
    expected: { exists: true, isFinal: false, last: at(300, "evt_b") },
  },
  {
    name: "a final event overrides a newer non-final state",
    updates: [{ last: at(300, "evt_upd") }, { isFinal: true, last: at(250, "evt_del") }],
    expected: { exists: true, isFinal: true, last: at(250, "evt_del") },
  },
  {
    name: "a final state is not moved by a newer non-final event",
    updates: [{ isFinal: true, last: at(250, "evt_del") }, { last: at(300, "evt_upd") }],
    expected: { exists: true, isFinal: true, last: at(250, "evt_del") },
  },
  {
    name: "a final state is not moved by a non-final event of the same second",
    updates: [{ isFinal: true, last: at(250, "evt_del") }, { last: at(250, "evt_upd") }],
    expected: { exists: true, isFinal: true, last: at(250, "evt_del") },
  },
  {
    name: "a newer final event moves a final state",
    updates: [
      { isFinal: true, last: at(250, "evt_del") },
      { isFinal: true, last: at(260, "evt_del2") },
    ],
    expected: { exists: true, isFinal: true, last: at(260, "evt_del2") },
  },
  {
    name: "a parent stub marks the record existing without a last event",
    updates: [{}],
    expected: { exists: true, isFinal: false },
  },
  {
    name: "a stub written after the record keeps its state",
    updates: [{ isFinal: true, last: at(250, "evt_del") }, {}],
    expected: { exists: true, isFinal: true, last: at(250, "evt_del") },
  },
  {
    name: "a completing checkout is remembered and kept by later events",
    updates: [{ completedBy: "cs_1" }, { last: at(300, "evt_upd") }],
    expected: { exists: true, isFinal: false, last: at(300, "evt_upd"), completedBy: "cs_1" },
  },
];

import type { StripeEvent } from "../../../src/domain/stripe-event.js";
import type { WriteEntry } from "../../../src/emulator/salesforce/index.js";
import { loadEvent } from "../../sync/support/sync-fixtures.js";

/** A stream of events over a few customers, their subscriptions and payments, each record's events in distinct seconds. */
export interface EventStream {
  events: StripeEvent[];
  /** What each record must hold once every event applied in `created` order: object -> external id -> fields. */
  expected: Map<string, Map<string, Record<string, unknown>>>;
}

/** Deterministic shuffle (a seeded LCG), so a failing order can be replayed. */
export function shuffled<T>(items: readonly T[], seed = 7): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * For customer i: three customer.updated events (names v1..v3), a subscription created, updated to
 * past_due and completed by checkout, and a payment that failed, then succeeded. Expected values
 * follow the contract: the newest event wins, Succeeded and Completed are never taken back.
 */
export function buildEventStream(prefix: string, customers: number, base = 1_760_000_000): EventStream {
  const events: StripeEvent[] = [];
  const expected = new Map<string, Map<string, Record<string, unknown>>>([
    ["Stripe_Customer__c", new Map()],
    ["Stripe_Subscription__c", new Map()],
    ["Payment_Transaction__c", new Map()],
  ]);
  for (let i = 0; i < customers; i++) {
    const t = base + i * 100;
    const cus = `cus_${prefix}_${i}`;
    const sub = `sub_${prefix}_${i}`;
    const pi = `pi_${prefix}_${i}`;
    for (const v of [1, 2, 3]) {
      events.push(
        loadEvent("customer.updated", {
          id: `evt_${prefix}_c${i}_${v}`,
          created: t + v * 10,
          object: { id: cus, name: `${prefix} customer ${i} v${v}`, email: `c${i}v${v}@example.com` },
        }),
      );
    }
    events.push(
      loadEvent("customer.subscription.created", {
        id: `evt_${prefix}_s${i}_1`,
        created: t + 11,
        object: { id: sub, customer: cus, status: "incomplete" },
      }),
      loadEvent("customer.subscription.updated", {
        id: `evt_${prefix}_s${i}_2`,
        created: t + 21,
        object: { id: sub, customer: cus, status: "past_due" },
      }),
      loadEvent("checkout.session.completed", {
        id: `evt_${prefix}_k${i}`,
        created: t + 12,
        object: { id: `cs_${prefix}_${i}`, subscription: sub, customer: cus },
      }),
      loadEvent("payment_intent.payment_failed", {
        id: `evt_${prefix}_p${i}_1`,
        created: t + 13,
        object: { id: pi, customer: cus },
      }),
      loadEvent("payment_intent.succeeded", {
        id: `evt_${prefix}_p${i}_2`,
        created: t + 23,
        object: { id: pi, customer: cus, currency: "usd", amount: 1000 + i, amount_received: 1000 + i },
      }),
    );
    expected.get("Stripe_Customer__c")!.set(cus, {
      Name: `${prefix} customer ${i} v3`,
      Last_Stripe_Event_Id__c: `evt_${prefix}_c${i}_3`,
    });
    expected.get("Stripe_Subscription__c")!.set(sub, {
      Status__c: "past_due",
      Sync_Status__c: "Completed",
      Checkout_Session_Id__c: `cs_${prefix}_${i}`,
      Last_Stripe_Event_Id__c: `evt_${prefix}_s${i}_2`,
    });
    expected.get("Payment_Transaction__c")!.set(pi, {
      Status__c: "Succeeded",
      Last_Stripe_Event_Id__c: `evt_${prefix}_p${i}_2`,
    });
  }
  return { events, expected };
}

/** Records whose fields differ from the stream's expectations, described for an assertion message. */
export function recordsOffExpectation(
  stream: EventStream,
  record: (objectName: string, externalId: string) => Record<string, unknown> | undefined,
): string[] {
  const wrong: string[] = [];
  for (const [objectName, byId] of stream.expected) {
    for (const [externalId, fields] of byId) {
      const found = record(objectName, externalId);
      for (const [field, value] of Object.entries(fields)) {
        if (found?.[field] !== value)
          wrong.push(
            `${objectName} ${externalId}.${field}: ${String(found?.[field])} (expected ${String(value)})`,
          );
      }
    }
  }
  return wrong;
}

/**
 * Writes of one event to one record counted more than once: (external id, Last_Stripe_Event_Id__c)
 * pairs that appear in several history entries. Stubs and checkout-only writes carry no event id.
 */
export function eventsWrittenTwice(history: readonly WriteEntry[]): string[] {
  const seen = new Map<string, number>();
  for (const entry of history) {
    const eventId = entry.fields.Last_Stripe_Event_Id__c;
    if (typeof eventId !== "string") continue;
    const key = `${entry.object} ${entry.externalId} ${eventId}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, count]) => count > 1).map(([key, count]) => `${key} x${count}`);
}

// The events of the worker benchmark: a backlog over N customers mixing the handled types.
import type { StripeEvent } from "../src/domain/stripe-event.js";
import type { DefaultObjectName } from "../src/domain/sync/mapped-record.js";
import { defaultMapping, orgExternalIdField } from "../src/domain/sync/mapping.js";
import { loadEvent } from "../test/sync/support/sync-fixtures.js";

const TYPES = [
  "customer.updated",
  "customer.subscription.updated",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "checkout.session.completed",
] as const;

/** A backlog, and the External IDs that must be in Salesforce once it is drained. */
export interface Backlog {
  events: StripeEvent[];
  expected: Map<DefaultObjectName, Set<string>>;
  /** Records the backlog writes. */
  records: number;
}

/**
 * `eventCount` events over `customerCount` customers, the handled types in turn, in a fixed
 * pseudo-random order of customers; `tag` keeps event and payment ids apart between backlogs
 * over the same customers.
 */
export function buildBacklog(eventCount: number, customerCount: number, tag = "b"): Backlog {
  const templates = Object.fromEntries(TYPES.map((type) => [type, loadEvent(type)])) as Record<
    (typeof TYPES)[number],
    StripeEvent
  >;
  const expected = new Map<DefaultObjectName, Set<string>>([
    ["Stripe_Customer__c", new Set()],
    ["Stripe_Subscription__c", new Set()],
    ["Payment_Transaction__c", new Set()],
  ]);
  const expect = (object: DefaultObjectName, id: string) => expected.get(object)!.add(id);
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const events: StripeEvent[] = [];
  for (let i = 0; i < eventCount; i++) {
    const type = TYPES[i % TYPES.length]!;
    const event = structuredClone(templates[type]);
    const c = Math.floor(random() * customerCount);
    const customer = `cus_bench_${c}`;
    const subscription = `sub_bench_${c}`;
    const object = event.data.object as Record<string, unknown>;
    event.id = `evt_bench_${tag}_${i}`;
    switch (type) {
      case "customer.updated":
        Object.assign(object, { id: customer, name: `Bench Customer ${c}`, email: `bench+${c}@example.com` });
        object.balance = -i;
        break;
      case "customer.subscription.updated":
        Object.assign(object, { id: subscription, customer });
        expect("Stripe_Subscription__c", subscription);
        break;
      case "payment_intent.succeeded":
      case "payment_intent.payment_failed":
        Object.assign(object, { id: `pi_bench_${i}`, customer, amount: 1000 + i });
        expect("Payment_Transaction__c", `pi_bench_${i}`);
        break;
      case "checkout.session.completed":
        Object.assign(object, { id: `cs_bench_${tag}_${i}`, customer, subscription });
        expect("Stripe_Subscription__c", subscription);
        break;
    }
    expect("Stripe_Customer__c", customer);
    events.push(event);
  }
  const records = [...expected.values()].reduce((n, ids) => n + ids.size, 0);
  return { events, expected, records };
}

/** Counts the expected records present in the emulated org. */
export async function recordsPresent(
  url: string,
  expected: Map<DefaultObjectName, Set<string>>,
): Promise<number> {
  const mapping = defaultMapping();
  let present = 0;
  for (const [object, ids] of expected) {
    const name = mapping.objects[object].name;
    const field = orgExternalIdField(mapping, object);
    const records = (await (await fetch(`${url}/__emulator/records/${name}`)).json()) as Record<
      string,
      unknown
    >[];
    const found = new Set(records.map((record) => String(record[field])));
    for (const id of ids) if (found.has(id)) present += 1;
  }
  return present;
}

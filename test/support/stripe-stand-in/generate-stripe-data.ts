import { readFileSync } from "node:fs";
import type { StripeObject } from "./stripe-store.js";

/** What `generateStripeData` makes. */
export interface GeneratedStripeData {
  customers: StripeObject[];
  subscriptions: StripeObject[];
  paymentIntents: StripeObject[];
  /** customer.created, customer.subscription.created and payment_intent.succeeded/.payment_failed, oldest first. */
  events: StripeObject[];
}

/** Options of `generateStripeData`. */
export interface GenerateOptions {
  /** How many customers (each with one subscription and `paymentsPerCustomer` payment intents). */
  customers: number;
  /** Payment intents per customer (default 1); about one in ten fails. */
  paymentsPerCustomer?: number;
  /** Unix seconds of the first object (default 2025-01-01); later objects follow a few seconds apart. */
  startAt?: number;
  /** Seed of the pseudo-random choices, so the same options give the same data (default 1). */
  seed?: number;
  /** Mode of every object and event (default false: test mode). */
  livemode?: boolean;
  /** A connected account: events carry it in `account`, ids carry a prefix unique to it. */
  account?: string;
  /** Id prefix, to keep several generated sets apart (default "gen"). */
  idPrefix?: string;
}

const fixture = (name: string): StripeObject =>
  (
    JSON.parse(readFileSync(new URL(`../../fixtures/stripe/${name}.json`, import.meta.url), "utf8")) as {
      data: { object: StripeObject };
    }
  ).data.object;

const TEMPLATES = {
  customer: fixture("customer.created"),
  subscription: fixture("customer.subscription.created"),
  succeeded: fixture("payment_intent.succeeded"),
  failed: fixture("payment_intent.payment_failed"),
};
const STATUSES = ["active", "active", "active", "trialing", "past_due", "canceled", "incomplete"];
const NAMES = [
  "Jenny Rosen",
  "Ada Lovelace",
  "Grace Hopper",
  "Alan Turing",
  "Katherine Johnson",
  "Linus Pauling",
];

/** A small deterministic generator (mulberry32), so generated data is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function event(
  type: string,
  object: StripeObject,
  created: number,
  options: GenerateOptions,
  id: string,
): StripeObject {
  return {
    id,
    object: "event",
    api_version: "2025-09-30.clover",
    created,
    data: { object },
    livemode: options.livemode ?? false,
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
    type,
    ...(options.account ? { account: options.account } : {}),
  };
}

/** Realistic customers, subscriptions, payment intents and their events, shaped like the fixtures. */
export function generateStripeData(options: GenerateOptions): GeneratedStripeData {
  const next = random(options.seed ?? 1);
  const livemode = options.livemode ?? false;
  const prefix = `${options.idPrefix ?? "gen"}${options.account ? options.account.slice(-6) : ""}`;
  let clock = options.startAt ?? 1735689600;
  const data: GeneratedStripeData = { customers: [], subscriptions: [], paymentIntents: [], events: [] };
  const pad = (n: number) => String(n).padStart(6, "0");
  for (let c = 0; c < options.customers; c++) {
    const name = NAMES[c % NAMES.length] ?? "Customer";
    const customer: StripeObject = {
      ...structuredClone(TEMPLATES.customer),
      id: `cus_${prefix}${pad(c)}`,
      created: (clock += 1 + Math.floor(next() * 5)),
      name: `${name} ${c}`,
      email: `${name.toLowerCase().replace(" ", ".")}.${c}@example.com`,
      livemode,
    };
    data.customers.push(customer);
    data.events.push(
      event("customer.created", customer, customer.created ?? clock, options, `evt_${prefix}c${pad(c)}`),
    );
    const status = STATUSES[Math.floor(next() * STATUSES.length)] ?? "active";
    const subscription: StripeObject = {
      ...structuredClone(TEMPLATES.subscription),
      id: `sub_${prefix}${pad(c)}`,
      customer: customer.id,
      created: (clock += 1 + Math.floor(next() * 5)),
      status,
      canceled_at: status === "canceled" ? clock : null,
      ended_at: status === "canceled" ? clock : null,
      livemode,
    };
    data.subscriptions.push(subscription);
    data.events.push(
      event(
        "customer.subscription.created",
        subscription,
        subscription.created ?? clock,
        options,
        `evt_${prefix}s${pad(c)}`,
      ),
    );
    for (let p = 0; p < (options.paymentsPerCustomer ?? 1); p++) {
      const isFailed = next() < 0.1;
      const amount = 500 + Math.floor(next() * 100) * 100;
      const intent: StripeObject = {
        ...structuredClone(isFailed ? TEMPLATES.failed : TEMPLATES.succeeded),
        id: `pi_${prefix}${pad(c)}${p}`,
        customer: customer.id,
        created: (clock += 1 + Math.floor(next() * 5)),
        amount,
        amount_received: isFailed ? 0 : amount,
        livemode,
      };
      data.paymentIntents.push(intent);
      const type = isFailed ? "payment_intent.payment_failed" : "payment_intent.succeeded";
      data.events.push(event(type, intent, intent.created ?? clock, options, `evt_${prefix}p${pad(c)}${p}`));
    }
  }
  return data;
}

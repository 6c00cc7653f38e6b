import Stripe from "stripe";
import type { StripeObject } from "../../domain/sync/stripe-port.js";
import { sleep, systemClock, type Clock } from "../../shared/clock.js";
import { toSyncError } from "./stripe-api-reader.js";

/** The list resources the operations commands page through. */
export type StripeListResource =
  "events" | "customers" | "subscriptions" | "payment_intents" | "webhook_endpoints";

/** One page of a Stripe list, newest first as Stripe answers. */
export interface StripePage {
  data: StripeObject[];
  hasMore: boolean;
  /** Unix seconds when the request was sent: the page reflects every change before it. */
  readAt: number;
}

/** Options of the list reader. */
export interface StripeListsOptions {
  /** Secret or restricted key with read access. */
  apiKey: string;
  /** Another API base, e.g. a stand-in (default api.stripe.com). */
  apiBase?: string | undefined;
  /** Requests per second at most (default 20 for a test key, 80 for a live one: under Stripe's 25 and 100). */
  readsPerSecond?: number | undefined;
  clock?: Clock;
}

/** Reads Stripe lists a page at a time, under a request rate, riding out 429s. */
export interface StripeLists {
  /** The key's mode, from its prefix. */
  readonly mode: "test" | "live";
  /** One page of `resource` with Stripe's list parameters (`limit`, `starting_after`, `ending_before`, filters). */
  page(resource: StripeListResource, params: Record<string, unknown>): Promise<StripePage>;
  /** One event, or undefined when Stripe no longer has it (older than 30 days). */
  retrieveEvent(id: string): Promise<StripeObject | undefined>;
  /** Requests sent so far, retries included. */
  requests(): number;
}

/** The mode of a Stripe key (`sk_test_`, `rk_live_`, ...); undefined for another shape. */
export function keyMode(apiKey: string): "test" | "live" | undefined {
  const match = /^(?:sk|rk)_(test|live)_/.exec(apiKey);
  return match ? (match[1] as "test" | "live") : undefined;
}

/** 429s ridden out per request before giving up. */
const MAX_RATE_LIMITED_TRIES = 6;

/** Creates the reader over the official SDK. */
export function createStripeLists(options: StripeListsOptions): StripeLists {
  const clock = options.clock ?? systemClock;
  const mode = keyMode(options.apiKey) ?? "test";
  const perSecond = options.readsPerSecond ?? (mode === "live" ? 80 : 20);
  const spacingMs = 1000 / perSecond;
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const stripe = new Stripe(options.apiKey, {
    maxNetworkRetries: 2,
    timeout: 30_000,
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          protocol: base.protocol === "http:" ? "http" : "https",
          port: base.port || (base.protocol === "http:" ? 80 : 443),
        }
      : {}),
  });
  let nextAt = 0;
  let count = 0;
  /** Spaces requests evenly at `perSecond`, and waits out a 429 with a doubling pause. */
  const send = async <T>(request: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const wait = nextAt - clock.now();
      nextAt = Math.max(clock.now(), nextAt) + spacingMs;
      if (wait > 0) await sleep(clock, wait);
      count += 1;
      try {
        return await request();
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status !== 429 || attempt >= MAX_RATE_LIMITED_TRIES)
          throw toSyncError(error) === "not_found" ? error : toSyncError(error);
        await sleep(clock, Math.min(8000, 500 * 2 ** attempt));
      }
    }
  };
  const lists: Record<
    StripeListResource,
    (params: Record<string, unknown>) => Promise<{ data: unknown[]; has_more: boolean }>
  > = {
    events: (params) => stripe.events.list(params),
    customers: (params) => stripe.customers.list(params),
    subscriptions: (params) => stripe.subscriptions.list(params),
    payment_intents: (params) => stripe.paymentIntents.list(params),
    webhook_endpoints: (params) => stripe.webhookEndpoints.list(params),
  };
  return {
    mode,
    async page(resource, params) {
      const readAt = Math.floor(clock.now() / 1000);
      const answer = await send(() => lists[resource](params));
      return { data: answer.data as StripeObject[], hasMore: answer.has_more, readAt };
    },
    async retrieveEvent(id) {
      try {
        return (await send(() => stripe.events.retrieve(id))) as unknown as StripeObject;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
      }
    },
    requests: () => count,
  };
}

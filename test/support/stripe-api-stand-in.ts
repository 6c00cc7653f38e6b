import { randomBytes } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseStripeQuery, type StripeParams } from "./stripe-stand-in/list-objects.js";
import { StripeApiError, type StripeErrorBody } from "./stripe-stand-in/stripe-api-error.js";
import { answerGet } from "./stripe-stand-in/stripe-routes.js";
import { StripeStore, type StripeObject } from "./stripe-stand-in/stripe-store.js";

export { generateStripeData, type GeneratedStripeData } from "./stripe-stand-in/generate-stripe-data.js";

/** Requests per second admitted per account and mode before 429 (Stripe's basic limits: 25 test, 100 live). */
export interface StripeRateLimit {
  test: number;
  live: number;
}

/** A fault of the stand-in: an error status or a delay, for the next `count` requests (default 1) under `path`. */
export type StripeStandInFault =
  | { type: "http_error"; status: number; count?: number; path?: string; account?: string }
  | { type: "latency"; ms: number; count?: number; path?: string; account?: string };

/** One request as the stand-in saw it. */
export interface StripeRequestRecord {
  method: string;
  path: string;
  /** Query parameters, read back into objects and arrays. */
  query: StripeParams;
  /** The `Stripe-Account` header, when sent. */
  stripeAccount?: string;
  /** The mode of the key used, when the key was valid. */
  livemode?: boolean;
  status: number;
  /** Milliseconds of the stand-in's clock. */
  at: number;
}

/** Options of `startStripeApiStandIn`. */
export interface StripeApiStandInOptions {
  /** Time source for rate limiting, event retention and the log (default the wall clock). */
  clock?: { now(): number };
  /** Requests per second per account and mode, or false for none (default 25 test, 100 live). */
  rateLimit?: StripeRateLimit | false;
  /** Only these keys are accepted (default: any well-formed sk_/rk_ test or live key). */
  apiKeys?: readonly string[];
  /** The platform's account id (default `acct_1StandInPlatform`). */
  platformAccount?: string;
}

/** A running stand-in for the Stripe API. */
export interface StripeApiStandIn {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** What to pass to `new Stripe(key, {...})` to talk to the stand-in. */
  sdkOptions: { host: string; port: number; protocol: "http" };
  /**
   * Stores real-shaped objects (kind from `object`, mode from `livemode`) in `account`, else the event's
   * `account`, else the platform; `deliverySuccess: false` marks events whose webhook delivery failed.
   */
  seed(
    objects: Record<string, unknown> | readonly Record<string, unknown>[],
    options?: { account?: string; deliverySuccess?: boolean },
  ): void;
  /** Marks a customer deleted: lists skip it, retrieve answers `{ id, object: "customer", deleted: true }`. */
  deleteCustomer(id: string, options?: { account?: string; livemode?: boolean }): void;
  /** Registers a connected account without objects. */
  addAccount(id: string): void;
  /** Every request since start or `clearRequests`, oldest first. */
  requests(): StripeRequestRecord[];
  clearRequests(): void;
  faults: { add(fault: StripeStandInFault): void; clear(): void };
  /** Changes the rate limit (false: none). */
  setRateLimit(limit: StripeRateLimit | false): void;
  /** Forgets objects, accounts, faults, the log and the rate windows. */
  reset(): void;
  stop(): Promise<void>;
}

const KEY = /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/;
const RATE_LIMIT_MESSAGE =
  "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.";

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    "content-type": "application/json",
    "request-id": `req_${randomBytes(7).toString("hex")}`,
    ...headers,
  });
  response.end(JSON.stringify(body, null, 2));
}

const errorOf = (status: number, error: StripeErrorBody, headers: Record<string, string> = {}) =>
  new StripeApiError(status, error, headers);

/** Starts the stand-in on a free loopback port; the official `stripe` SDK talks to it like the real API. */
export async function startStripeApiStandIn(
  options: StripeApiStandInOptions = {},
): Promise<StripeApiStandIn> {
  const clock = options.clock ?? { now: () => Date.now() };
  const store = new StripeStore(options.platformAccount ?? "acct_1StandInPlatform");
  let rateLimit: StripeRateLimit | false = options.rateLimit ?? { test: 25, live: 100 };
  let faults: Array<StripeStandInFault & { remaining: number }> = [];
  let log: StripeRequestRecord[] = [];
  const windows = new Map<string, number[]>();

  const authenticate = (header: string | undefined): boolean => {
    const bearer = header?.match(/^Bearer (.+)$/i)?.[1];
    const basic = header?.match(/^Basic (.+)$/i)?.[1];
    const key = bearer ?? (basic ? Buffer.from(basic, "base64").toString().split(":")[0] : undefined);
    if (!key)
      throw errorOf(401, {
        type: "invalid_request_error",
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      });
    if (!KEY.test(key) || (options.apiKeys && !options.apiKeys.includes(key)))
      throw errorOf(401, {
        type: "invalid_request_error",
        message: `Invalid API Key provided: ${key.slice(0, 8)}****${key.slice(-4)}`,
      });
    return key.split("_")[1] === "live";
  };
  const admit = (account: string, livemode: boolean) => {
    if (!rateLimit) return;
    const key = `${account}|${livemode}`;
    const now = clock.now();
    const recent = (windows.get(key) ?? []).filter((at) => at > now - 1000);
    if (recent.length >= (livemode ? rateLimit.live : rateLimit.test)) {
      windows.set(key, recent);
      throw errorOf(
        429,
        { type: "invalid_request_error", code: "rate_limit", message: RATE_LIMIT_MESSAGE },
        {
          "stripe-rate-limited-reason": "global-rate",
        },
      );
    }
    recent.push(now);
    windows.set(key, recent);
  };
  const takeFault = (path: string, account: string) => {
    const fault = faults.find(
      (f) =>
        (f.path === undefined || path.startsWith(f.path)) &&
        (f.account === undefined || f.account === account),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults = faults.filter((f) => f !== fault);
    return fault;
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    const query = parseStripeQuery(url.searchParams);
    const header = request.headers["stripe-account"];
    const stripeAccount = Array.isArray(header) ? header[0] : header;
    const record: StripeRequestRecord = {
      method: request.method ?? "GET",
      path: url.pathname,
      query,
      ...(stripeAccount ? { stripeAccount } : {}),
      status: 0,
      at: clock.now(),
    };
    log.push(record);
    const answer = async () => {
      const livemode = authenticate(request.headers.authorization);
      record.livemode = livemode;
      const account = stripeAccount ?? store.platformAccount;
      if (!store.hasAccount(account))
        throw errorOf(403, {
          type: "invalid_request_error",
          code: "account_invalid",
          message: `The provided key does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
        });
      admit(account, livemode);
      const fault = takeFault(url.pathname, account);
      if (fault?.type === "latency") await sleep(fault.ms);
      if (fault?.type === "http_error")
        throw errorOf(fault.status, {
          type: fault.status >= 500 ? "api_error" : "invalid_request_error",
          message: `injected ${fault.status}`,
        });
      if (record.method !== "GET")
        throw errorOf(405, {
          type: "invalid_request_error",
          message: `the stand-in serves GET only, not ${record.method}`,
        });
      return answerGet(store, url.pathname, query, { account, livemode }, Math.floor(clock.now() / 1000));
    };
    answer().then(
      (body) => {
        record.status = 200;
        send(response, 200, body);
      },
      (error: unknown) => {
        const failure =
          error instanceof StripeApiError
            ? error
            : errorOf(500, { type: "api_error", message: (error as Error).message });
        record.status = failure.status;
        send(response, failure.status, { error: failure.body }, failure.headers);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sdkOptions: { host: "127.0.0.1", port, protocol: "http" },
    seed: (objects, seedOptions = {}) => {
      const list: readonly Record<string, unknown>[] = Array.isArray(objects) ? objects : [objects];
      for (const object of list) {
        if (typeof object.id !== "string" || typeof object.object !== "string")
          throw new Error("a seeded object needs string id and object fields");
        const account =
          seedOptions.account ?? (object.account as string | undefined) ?? store.platformAccount;
        store.put(object as StripeObject, { account, livemode: object.livemode === true }, seedOptions);
      }
    },
    deleteCustomer: (id, scope = {}) =>
      store.markDeleted("customer", id, {
        account: scope.account ?? store.platformAccount,
        livemode: scope.livemode ?? false,
      }),
    addAccount: (id) => store.addAccount(id),
    requests: () => structuredClone(log),
    clearRequests: () => {
      log = [];
    },
    faults: {
      add: (fault) => faults.push({ ...fault, remaining: fault.count ?? 1 }),
      clear: () => {
        faults = [];
      },
    },
    setRateLimit: (limit) => {
      rateLimit = limit;
    },
    reset: () => {
      store.clear();
      faults = [];
      log = [];
      windows.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

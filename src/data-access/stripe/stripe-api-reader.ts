import Stripe from "stripe";
import type { StripeObject, StripeObjectReader } from "../../domain/sync/stripe-port.js";
import { PermanentSyncError, RetryableSyncError } from "../../shared/errors.js";

/** Options of the SDK-backed reader. */
export interface StripeObjectReaderOptions {
  /** Secret or restricted key (read access to customers, subscriptions, payment intents). */
  apiKey: string;
  /** Base URL of the API, e.g. `http://localhost:12111` for stripe-mock (default: api.stripe.com). */
  apiBase?: string | undefined;
  /** SDK retries with backoff on network errors and 409/429/5xx (default 1). */
  maxNetworkRetries?: number;
  /** Per-request timeout in milliseconds (default 10000). */
  timeoutMs?: number;
}

/** Converts a Stripe SDK error once, at this boundary. */
export function toSyncError(error: unknown): RetryableSyncError | PermanentSyncError | "not_found" {
  if (!(error instanceof Stripe.errors.StripeError)) {
    return new RetryableSyncError(
      "stripe_unexpected",
      `Stripe: ${(error as Error)?.message ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  const status = error.statusCode;
  if (status === 404) return "not_found";
  if (error instanceof Stripe.errors.StripeConnectionError || status === undefined) {
    return new RetryableSyncError("stripe_connection", `Stripe: ${error.message}`, { cause: error });
  }
  if (status === 429) {
    const retryAfter = Number(error.headers?.["retry-after"]);
    return new RetryableSyncError("stripe_429", `Stripe: ${error.message}`, {
      cause: error,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
  // A revoked or wrong key is an operator's fix: keep the work instead of dead-lettering it.
  if (status >= 500 || status === 401 || status === 403 || status === 409) {
    return new RetryableSyncError(`stripe_${status}`, `Stripe: ${error.message}`, { cause: error });
  }
  return new PermanentSyncError(`stripe_${status}`, `Stripe: ${error.message}`, { cause: error });
}

/**
 * Creates the reader over the official SDK (`STRIPE_API_BASE` sets host, port and protocol); a read
 * with an `account` sends `Stripe-Account` (https://docs.stripe.com/connect/authentication).
 */
export function createStripeObjectReader(options: StripeObjectReaderOptions): StripeObjectReader {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  const stripe = new Stripe(options.apiKey, {
    maxNetworkRetries: options.maxNetworkRetries ?? 1,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          protocol: base.protocol === "http:" ? "http" : "https",
          port: base.port || (base.protocol === "http:" ? 80 : 443),
        }
      : {}),
  });
  // A Connect event's object exists only in its account: read it on that account's behalf.
  const onBehalfOf = (account: string | undefined) => (account ? { stripeAccount: account } : undefined);
  const read = async (retrieve: () => Promise<unknown>): Promise<StripeObject | undefined> => {
    let object: StripeObject;
    try {
      object = (await retrieve()) as StripeObject;
    } catch (error) {
      const converted = toSyncError(error);
      if (converted === "not_found") return undefined;
      throw converted;
    }
    return object.deleted === true ? undefined : object;
  };
  return {
    retrieveCustomer: (id, account) => read(() => stripe.customers.retrieve(id, {}, onBehalfOf(account))),
    retrieveSubscription: (id, account) =>
      read(() => stripe.subscriptions.retrieve(id, {}, onBehalfOf(account))),
    retrievePaymentIntent: (id, account) =>
      read(() => stripe.paymentIntents.retrieve(id, {}, onBehalfOf(account))),
    retrieveCheckoutSession: (id, account) =>
      read(() => stripe.checkout.sessions.retrieve(id, {}, onBehalfOf(account))),
  };
}

import type { StripeObjectReader } from "../../domain/sync/stripe-port.js";
import type { TokenBucket } from "../store/token-bucket.js";

/** Stripe's documented read limits per account, requests per second. */
export const STRIPE_READ_LIMITS = { live: 100, test: 25 } as const;

/** The mode of a Stripe API key, from its prefix (`sk_live_`, `rk_test_`...). */
export function modeOfKey(apiKey: string): "live" | "test" {
  return /^(sk|rk)_live_/.test(apiKey) ? "live" : "test";
}

/**
 * A reader that takes a token from a bucket shared by every replica before each Stripe read, so
 * the re-reads of all workers (and the operations commands) stay under Stripe's per-account rate
 * limit together; a 429 that still happens is retried like any passing failure.
 */
export function rateLimitedReader(reader: StripeObjectReader, bucket: TokenBucket): StripeObjectReader {
  const limited =
    <T>(read: (id: string) => Promise<T>) =>
    async (id: string): Promise<T> => {
      await bucket.take();
      return read(id);
    };
  return {
    retrieveCustomer: limited((id) => reader.retrieveCustomer(id)),
    retrieveSubscription: limited((id) => reader.retrieveSubscription(id)),
    retrievePaymentIntent: limited((id) => reader.retrievePaymentIntent(id)),
    retrieveCheckoutSession: limited((id) => reader.retrieveCheckoutSession(id)),
  };
}

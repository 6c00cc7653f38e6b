import type { StripeObjectReader } from "../../domain/sync/stripe-port.js";
import type { TokenBucket } from "../store/token-bucket.js";

/** Stripe's documented read limits per account, requests per second. */
export const STRIPE_READ_LIMITS = { live: 100, test: 25 } as const;

/** The mode of a Stripe API key, from its prefix (`sk_live_`, `rk_test_`...). */
export function modeOfKey(apiKey: string): "live" | "test" {
  return /^(sk|rk)_live_/.test(apiKey) ? "live" : "test";
}

/** The bucket of one Stripe account's reads: a connected account's (`acct_...`), or the platform's (undefined). */
export type BucketOfAccount = (account: string | undefined) => TokenBucket;

/**
 * A reader that takes a token from a bucket shared by every replica before each Stripe read, so
 * the re-reads of all workers stay under Stripe's rate limit together. Stripe limits each account
 * on its own, so a read on behalf of a connected account takes from that account's bucket, and
 * one busy account does not slow the others; a 429 that still happens is retried like any passing
 * failure.
 */
export function rateLimitedReader(reader: StripeObjectReader, bucketOf: BucketOfAccount): StripeObjectReader {
  const limited =
    <T>(read: (id: string, account?: string) => Promise<T>) =>
    async (id: string, account?: string): Promise<T> => {
      await bucketOf(account).take();
      return read(id, account);
    };
  return {
    retrieveCustomer: limited((id, account) => reader.retrieveCustomer(id, account)),
    retrieveSubscription: limited((id, account) => reader.retrieveSubscription(id, account)),
    retrievePaymentIntent: limited((id, account) => reader.retrievePaymentIntent(id, account)),
    retrieveCheckoutSession: limited((id, account) => reader.retrieveCheckoutSession(id, account)),
  };
}

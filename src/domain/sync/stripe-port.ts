/** A Stripe object as the API returns it; mappers validate the fields they read. */
export type StripeObject = Record<string, unknown>;

/**
 * Reads the current state of objects from the Stripe API, so that what lands in Salesforce is
 * Stripe's state whatever the order of events. Each method resolves undefined when Stripe no
 * longer has the object (404, or a deleted customer), throws RetryableSyncError for 429, 5xx,
 * network and authentication failures, and PermanentSyncError for other 4xx. `account` is the
 * connected account of a Connect event: the read is made on its behalf (`Stripe-Account`), since
 * its objects exist only there; undefined reads the platform's own.
 */
export interface StripeObjectReader {
  retrieveCustomer(id: string, account?: string): Promise<StripeObject | undefined>;
  retrieveSubscription(id: string, account?: string): Promise<StripeObject | undefined>;
  retrievePaymentIntent(id: string, account?: string): Promise<StripeObject | undefined>;
  /** Checkout sessions are read only to complete a slimmed or thin event (see complete-events.ts). */
  retrieveCheckoutSession(id: string, account?: string): Promise<StripeObject | undefined>;
}

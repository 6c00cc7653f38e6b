/** A Stripe object as the API returns it; mappers validate the fields they read. */
export type StripeObject = Record<string, unknown>;

/**
 * Reads the current state of objects from the Stripe API, so that what lands in Salesforce is
 * Stripe's state whatever the order of events. Each method resolves undefined when Stripe no
 * longer has the object (404, or a deleted customer), throws RetryableSyncError for 429, 5xx,
 * network and authentication failures, and PermanentSyncError for other 4xx.
 */
export interface StripeObjectReader {
  retrieveCustomer(id: string): Promise<StripeObject | undefined>;
  retrieveSubscription(id: string): Promise<StripeObject | undefined>;
  retrievePaymentIntent(id: string): Promise<StripeObject | undefined>;
  /** Checkout sessions are read only to complete a slimmed event (see complete-events.ts). */
  retrieveCheckoutSession(id: string): Promise<StripeObject | undefined>;
}

/** Stripe event types the worker turns into Salesforce writes; others are acknowledged and dropped. */
export const HANDLED_EVENT_TYPES: ReadonlySet<string> = new Set([
  "checkout.session.completed",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.updated",
  "customer.created",
  "customer.deleted",
]);

/** True when the worker has a handler for `type`. */
export function isHandledEventType(type: string): boolean {
  return HANDLED_EVENT_TYPES.has(type);
}

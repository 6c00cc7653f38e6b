import { SpanKind, type Tracer } from "@opentelemetry/api";
import type { StripeObject, StripeObjectReader } from "../../domain/sync/stripe-port.js";
import { inSpan } from "../../shared/in-span.js";
import { SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";

/**
 * The Stripe re-reader with a client span per read (`stripe retrieve customer`...), the wait for
 * the shared rate limit included, saying whether Stripe still has the object.
 */
export function tracedStripeReader(reader: StripeObjectReader, tracer: Tracer): StripeObjectReader {
  const traced =
    (object: string, read: (id: string) => Promise<StripeObject | undefined>) =>
    (id: string): Promise<StripeObject | undefined> =>
      inSpan(
        tracer,
        `stripe retrieve ${object}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [SPAN_ATTRIBUTE.stripeObject]: object, [SPAN_ATTRIBUTE.stripeObjectId]: id },
        },
        async (span) => {
          const found = await read(id);
          span.setAttribute(SPAN_ATTRIBUTE.isStripeObjectFound, found !== undefined);
          return found;
        },
      );
  return {
    retrieveCustomer: traced("customer", (id) => reader.retrieveCustomer(id)),
    retrieveSubscription: traced("subscription", (id) => reader.retrieveSubscription(id)),
    retrievePaymentIntent: traced("payment_intent", (id) => reader.retrievePaymentIntent(id)),
    retrieveCheckoutSession: traced("checkout.session", (id) => reader.retrieveCheckoutSession(id)),
  };
}

import { isStripeEvent, type StripeEvent } from "../../domain/stripe-event.js";

/** Reads a message body as a Stripe event; anything else is reported as a problem, never thrown. */
export function readEventFromBody(body: string | undefined): { event: StripeEvent } | { problem: string } {
  if (body === undefined || body === "") return { problem: "empty body" };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { problem: `body is not JSON: ${(error as Error).message}` };
  }
  if (!isStripeEvent(value))
    return { problem: "body is not a Stripe event (needs id, type, created, data.object)" };
  return { event: value };
}

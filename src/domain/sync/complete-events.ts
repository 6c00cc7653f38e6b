import { outcomeOfError, type FailureOutcome } from "./event-outcome.js";
import type { StripeObject, StripeObjectReader } from "./stripe-port.js";
import type { Outcomes, SyncItem } from "./sync-item.js";

/** How each object kind a slimmed envelope names (`data.object.object`) is read from Stripe. */
const READ_BY_KIND: Readonly<
  Record<string, (reader: StripeObjectReader, id: string) => Promise<StripeObject | undefined>>
> = {
  customer: (reader, id) => reader.retrieveCustomer(id),
  subscription: (reader, id) => reader.retrieveSubscription(id),
  payment_intent: (reader, id) => reader.retrievePaymentIntent(id),
  "checkout.session": (reader, id) => reader.retrieveCheckoutSession(id),
};

type Completion = { object: StripeObject } | { failure: FailureOutcome };

const deadLetter = (reason: string, detail: string): Completion => ({
  failure: { status: "dead-letter", reason, detail },
});

/** Reads the object of one slimmed event, or the outcome of an event that cannot be completed. */
async function readObject(item: SyncItem, reader: StripeObjectReader | undefined): Promise<Completion> {
  const { id, object: kind } = item.event.data.object;
  const what = `${String(kind)} ${String(id)}`;
  if (!reader) {
    return deadLetter(
      "needs_stripe_api_key",
      `the event was too large for the queue and went slimmed; only the Stripe API has its ${what}: ` +
        "set STRIPE_API_KEY on the worker, then redrive the dead-letter queue",
    );
  }
  const read = typeof kind === "string" ? READ_BY_KIND[kind] : undefined;
  if (!read || typeof id !== "string")
    return deadLetter("unreadable_object", `a slimmed event names ${what}, which cannot be read from Stripe`);
  try {
    const object = await read(reader, id);
    return object
      ? { object }
      : deadLetter("object_gone", `Stripe no longer has ${what}; the slimmed event cannot be completed`);
  } catch (error) {
    return { failure: outcomeOfError(error) };
  }
}

/**
 * Completes the candidates that came as a slimmed envelope (an event too large for the queue) by
 * reading their object from Stripe into `data.object`. Those that cannot be completed get their
 * outcome through `take`: dead-lettered without a Stripe API key or when Stripe no longer has the
 * object, retried on 429, 5xx and network failures. Returns the candidates still to sync.
 */
export async function completeEvents(
  items: readonly SyncItem[],
  candidates: readonly number[],
  reader: StripeObjectReader | undefined,
  take: (decided: Outcomes) => void,
): Promise<number[]> {
  const slimmed = candidates.filter((index) => items[index]?.needsObject === true);
  if (slimmed.length === 0) return [...candidates];
  const failed: Outcomes = new Map();
  await Promise.all(
    slimmed.map(async (index) => {
      const item = items[index] as SyncItem;
      const completion = await readObject(item, reader);
      if ("failure" in completion) failed.set(index, completion.failure);
      else item.event.data = { ...item.event.data, object: completion.object };
    }),
  );
  take(failed);
  return candidates.filter((index) => !failed.has(index));
}

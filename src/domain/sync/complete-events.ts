import { accountOf } from "../stripe-event.js";
import { outcomeOfError, type EventOutcome } from "./event-outcome.js";
import { handlerFor } from "./event-handlers.js";
import type { StripeObject, StripeObjectReader } from "./stripe-port.js";
import type { Outcomes, SyncItem } from "./sync-item.js";

type Read = (reader: StripeObjectReader, id: string, account?: string) => Promise<StripeObject | undefined>;

/** How each object kind a slimmed or thin event names (`data.object.object`) is read from Stripe. */
const READ_BY_KIND: Readonly<Record<string, Read>> = {
  customer: (reader, id, account) => reader.retrieveCustomer(id, account),
  subscription: (reader, id, account) => reader.retrieveSubscription(id, account),
  payment_intent: (reader, id, account) => reader.retrievePaymentIntent(id, account),
  "checkout.session": (reader, id, account) => reader.retrieveCheckoutSession(id, account),
};

type Completion = { object: StripeObject } | { outcome: EventOutcome };

const deadLetter = (reason: string, detail: string): Completion => ({
  outcome: { status: "dead-letter", reason, detail },
});

/** The reader of a slimmed or thin event's object, when there is one. */
function readerOf(item: SyncItem): Read | undefined {
  const kind = item.event.data.object.object;
  return typeof kind === "string" && Object.hasOwn(READ_BY_KIND, kind) ? READ_BY_KIND[kind] : undefined;
}

/**
 * Why a thin event is not synced, or undefined when it is: its type must be handled, its related
 * object readable, and a Stripe API key configured (contract: snapshot events; thin ones only
 * where the object can be fetched).
 */
function unsupportedThin(item: SyncItem, reader: StripeObjectReader | undefined): string | undefined {
  if (!handlerFor(item.event.type)) return `thin event of a type not synced (${item.event.type})`;
  if (!readerOf(item) || typeof item.event.data.object.id !== "string")
    return `thin event whose related object cannot be read (${String(item.event.data.object.object)})`;
  if (!reader) return "thin event, but no STRIPE_API_KEY to fetch its object";
  return undefined;
}

/** Reads the object of one slimmed or thin event, or the outcome of an event that cannot be completed. */
async function readObject(item: SyncItem, reader: StripeObjectReader | undefined): Promise<Completion> {
  const { id, object: kind } = item.event.data.object;
  const what = `${String(kind)} ${String(id)}`;
  if (item.isThin) {
    const unsupported = unsupportedThin(item, reader);
    if (unsupported) {
      item.log.info("thin event not synced", { detail: unsupported });
      return { outcome: { status: "ignored", reason: "thin_event_unsupported" } };
    }
  }
  if (!reader) {
    return deadLetter(
      "needs_stripe_api_key",
      `the event was too large for the queue and went slimmed; only the Stripe API has its ${what}: ` +
        "set STRIPE_API_KEY on the worker, then redrive the dead-letter queue",
    );
  }
  const read = readerOf(item);
  if (!read || typeof id !== "string")
    return deadLetter("unreadable_object", `a slimmed event names ${what}, which cannot be read from Stripe`);
  const account = accountOf(item.event);
  try {
    const object = await read(reader, id, account);
    if (object) return { object };
    // Stripe keeps a deleted customer as `{ id, deleted: true }`: all that customer.deleted writes.
    if (item.event.type === "customer.deleted") return { object: { id, object: kind, deleted: true } };
    const where = account ? ` (account ${account})` : "";
    return deadLetter("object_gone", `Stripe no longer has ${what}${where}; the event cannot be completed`);
  } catch (error) {
    return { outcome: outcomeOfError(error) };
  }
}

/**
 * Completes the candidates that came as a slimmed envelope (an event too large for the queue) or
 * as a thin event (EventBridge) by reading their object from Stripe into `data.object`, a Connect
 * event's on behalf of its account. Those that cannot be completed get their outcome through
 * `take`: a thin event that is not synced is ignored (`thin_event_unsupported`); a slimmed one is
 * dead-lettered without a Stripe API key; either is dead-lettered when Stripe no longer has the
 * object, and retried on 429, 5xx and network failures. Returns the candidates still to sync.
 */
export async function completeEvents(
  items: readonly SyncItem[],
  candidates: readonly number[],
  reader: StripeObjectReader | undefined,
  take: (decided: Outcomes) => void,
): Promise<number[]> {
  const slimmed = candidates.filter((index) => items[index]?.needsObject === true);
  if (slimmed.length === 0) return [...candidates];
  const decided: Outcomes = new Map();
  await Promise.all(
    slimmed.map(async (index) => {
      const item = items[index] as SyncItem;
      const completion = await readObject(item, reader);
      if ("outcome" in completion) decided.set(index, completion.outcome);
      else item.event.data = { ...item.event.data, object: completion.object };
    }),
  );
  take(decided);
  return candidates.filter((index) => !decided.has(index));
}

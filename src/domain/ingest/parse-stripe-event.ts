import { BadRequestError } from "../../shared/errors.js";
import type { SlimEnvelopeFields } from "./queue-message-codec.js";
import { eventOfThin, isThinEvent } from "./thin-event.js";

/** The fields of an event the ingest path needs; the whole body travels unchanged. */
export interface IncomingEvent extends SlimEnvelopeFields {
  /** The id of the customer the event is about, for FIFO ordering; absent when unknown. */
  customerId: string | undefined;
}

const stringOr = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

function customerOf(object: Record<string, unknown>): string | undefined {
  if (object.object === "customer" && typeof object.id === "string") return object.id;
  const customer = object.customer;
  if (typeof customer === "string") return customer;
  if (customer && typeof customer === "object" && typeof (customer as { id?: unknown }).id === "string") {
    return (customer as { id: string }).id;
  }
  return undefined;
}

/**
 * The fields of a thin event (an event destination with `event_payload: thin`), by the snapshot event
 * it stands for: its type (`v1.customer.updated` -> `customer.updated`) and related object. The body
 * travels as is; the worker reads the object from Stripe (thin-event.ts).
 */
function incomingThinEvent(value: Record<string, unknown>): IncomingEvent {
  const thin = eventOfThin(value);
  if ("problem" in thin) throw new BadRequestError(`not a Stripe thin event: ${thin.problem}`);
  const { event } = thin;
  return {
    id: event.id,
    type: event.type,
    created: event.created,
    livemode: event.livemode,
    account: event.account,
    apiVersion: undefined,
    customerId: event.data.object.object === "customer" ? stringOr(event.data.object.id) : undefined,
    objectId: stringOr(event.data.object.id),
    objectKind: stringOr(event.data.object.object),
  };
}

/**
 * Parses a verified body and checks the minimal event shape (`id`, `type`, `created`, `data.object`),
 * or a thin event's (`object: "v2.core.event"`, `id`, `type`, an ISO `created`).
 */
export function parseStripeEvent(json: string): IncomingEvent {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    throw new BadRequestError("the body is not valid JSON");
  }
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new BadRequestError("the body is not a JSON object");
  if (isThinEvent(body)) return incomingThinEvent(body);
  const event = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof event.id !== "string" || event.id === "") problems.push("id must be a non-empty string");
  if (typeof event.type !== "string" || event.type === "") problems.push("type must be a non-empty string");
  if (typeof event.created !== "number" || !Number.isInteger(event.created))
    problems.push("created must be a unix timestamp");
  const data = event.data as Record<string, unknown> | undefined;
  const object = data && typeof data === "object" ? data.object : undefined;
  if (!object || typeof object !== "object" || Array.isArray(object))
    problems.push("data.object must be an object");
  if (problems.length > 0) throw new BadRequestError(`not a Stripe event: ${problems.join(", ")}`);
  const dataObject = object as Record<string, unknown>;
  return {
    id: event.id as string,
    type: event.type as string,
    created: event.created as number,
    livemode: typeof event.livemode === "boolean" ? event.livemode : undefined,
    account: stringOr(event.account),
    apiVersion: event.api_version === null ? null : stringOr(event.api_version),
    customerId: customerOf(dataObject),
    objectId: stringOr(dataObject.id),
    objectKind: stringOr(dataObject.object),
  };
}

import { filterCreated, listPage, type StripeList, type StripeParams } from "./list-objects.js";
import { invalidParameter, resourceMissing, StripeApiError } from "./stripe-api-error.js";
import type { Scope, StripeKind, StripeObject, StripeStore } from "./stripe-store.js";

/** Events older than this are gone from the Events API (Stripe keeps 30 days). */
export const EVENT_RETENTION_SECONDS = 30 * 24 * 3600;
/** At most 20 event types in one `types[]` filter. */
export const MAX_EVENT_TYPES = 20;

const RESOURCES: Record<string, { kind: StripeKind; name: string }> = {
  customers: { kind: "customer", name: "customer" },
  subscriptions: { kind: "subscription", name: "subscription" },
  payment_intents: { kind: "payment_intent", name: "payment_intent" },
  "checkout/sessions": { kind: "checkout.session", name: "checkout.session" },
  events: { kind: "event", name: "event" },
  webhook_endpoints: { kind: "webhook_endpoint", name: "webhook_endpoint" },
};

const matchesType = (pattern: string, type: string) =>
  pattern.endsWith("*") ? type.startsWith(pattern.slice(0, -1)) : pattern === type;

function filterEvents(
  items: ReadonlyArray<{ object: StripeObject; deliverySuccess: boolean }>,
  params: StripeParams,
  nowSeconds: number,
) {
  const { type, types, delivery_success: delivery } = params;
  if (type !== undefined && types !== undefined)
    throw new StripeApiError(400, {
      type: "invalid_request_error",
      message: "You may only specify one of these parameters: type, types.",
    });
  const typeList = types === undefined ? undefined : (types as string[]);
  if (typeList && typeList.length > MAX_EVENT_TYPES)
    throw invalidParameter("types", `You may only specify up to ${MAX_EVENT_TYPES} types.`);
  return items
    .filter(({ object }) => (object.created ?? 0) >= nowSeconds - EVENT_RETENTION_SECONDS)
    .filter(({ object }) => type === undefined || matchesType(String(type), String(object.type)))
    .filter(({ object }) => !typeList || typeList.some((t) => matchesType(t, String(object.type))))
    .filter((item) => delivery === undefined || String(item.deliverySuccess) === String(delivery));
}

function filterKind(kind: StripeKind, objects: StripeObject[], params: StripeParams): StripeObject[] {
  const equals = (field: string) => (o: StripeObject) =>
    params[field] === undefined || o[field] === params[field];
  switch (kind) {
    case "subscription": {
      // Without `status`, canceled subscriptions are left out; `status=all` includes them.
      const status = params.status as string | undefined;
      return objects
        .filter(equals("customer"))
        .filter((o) =>
          status === undefined ? o.status !== "canceled" : status === "all" || o.status === status,
        );
    }
    case "payment_intent":
      return objects.filter(equals("customer"));
    case "checkout.session":
      return objects
        .filter(equals("customer"))
        .filter(equals("subscription"))
        .filter(equals("payment_intent"));
    case "customer":
      return objects.filter(equals("email"));
    default:
      return objects;
  }
}

/** Answers the GET list and retrieve endpoints of the stand-in for one account and mode. */
export function answerGet(
  store: StripeStore,
  path: string,
  params: StripeParams,
  scope: Scope,
  nowSeconds: number,
): StripeList | StripeObject {
  if (path === "/v1/account") {
    return {
      id: scope.account,
      object: "account",
      charges_enabled: true,
      payouts_enabled: true,
      type: "standard",
    };
  }
  const match = path.match(
    /^\/v1\/(customers|subscriptions|payment_intents|checkout\/sessions|events|webhook_endpoints)(?:\/([^/]+))?$/,
  );
  const resource = match ? RESOURCES[match[1] ?? ""] : undefined;
  if (!match || !resource) {
    throw new StripeApiError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (GET: ${path}).`,
    });
  }
  const id = match[2] === undefined ? undefined : decodeURIComponent(match[2]);
  if (id !== undefined) {
    const found = store.find(resource.kind, id, scope);
    const isExpired =
      resource.kind === "event" && (found?.object.created ?? 0) < nowSeconds - EVENT_RETENTION_SECONDS;
    if (!found || isExpired) throw resourceMissing(resource.name, id);
    return found.isDeleted ? { id, object: found.object.object, deleted: true } : found.object;
  }
  const all = store.list(resource.kind, scope);
  const live =
    resource.kind === "event"
      ? filterEvents(all, params, nowSeconds).map((e) => e.object)
      : all.map((e) => e.object);
  const filtered = filterCreated(filterKind(resource.kind, live, params), params.created);
  const page = listPage(
    filtered,
    params,
    `/v1/${match[1]}`,
    resource.name,
    all.map((e) => e.object),
  );
  // The store lends its own objects: only the page's are copied out.
  return { ...page, data: page.data.map((object) => structuredClone(object)) };
}

/**
 * Amazon EventBridge envelopes on the event queue. A Stripe event destination of type
 * `amazon_eventbridge` puts events on a partner event bus, and a rule delivers them to the queue
 * as the envelope itself (`version`, `id`, `detail-type`, `source`, `account`, `time`, `region`,
 * `resources`, `detail` = the Stripe event), with no signature and no message attributes. The
 * Stripe SDK's `constructEventWithoutVerification` unwraps `detail` but drops `source` and
 * `account`, which decide trust here, so the envelope is read here from the one parse of the body.
 */

/** What every Stripe event destination's partner event source is named after: `aws.partner/stripe.com/<destination id>`. */
export const STRIPE_PARTNER_SOURCE_PREFIX = "aws.partner/stripe.com/";

/**
 * Which envelopes the worker accepts: only those whose `source` starts with one of `sources`
 * (config EVENTBRIDGE_SOURCES) and whose `account` is one of `awsAccounts` (EVENTBRIDGE_AWS_ACCOUNTS).
 * Empty lists (the default) accept none.
 */
export interface EventBridgeTrust {
  /** `source` prefixes, each `aws.partner/stripe.com/<event destination id>`. */
  sources: readonly string[];
  /** AWS account ids (12 digits) whose event bus may deliver. */
  awsAccounts: readonly string[];
}

/** The envelope fields the worker reads; `detail` is checked by the caller. */
export interface EventBridgeEnvelope {
  /** EventBridge's own id of the delivery (not the Stripe event's). */
  id: string | undefined;
  /** `aws.partner/stripe.com/ed_...` for a Stripe event destination. */
  source: string | undefined;
  /** The Stripe event's type. */
  detailType: string | undefined;
  /** The AWS account of the event bus. */
  awsAccount: string | undefined;
  /** The Stripe event: a snapshot event, or a thin event notification. */
  detail: unknown;
}

const stringOr = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/**
 * True when a parsed message body is an EventBridge envelope rather than a Stripe event: a JSON
 * object with `detail-type` and `detail` (a Stripe event has neither).
 */
export function isEventBridgeEnvelope(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.hasOwn(value, "detail-type") &&
    Object.hasOwn(value, "detail")
  );
}

/** Reads the envelope fields of a body `isEventBridgeEnvelope` accepted. */
export function readEnvelope(value: Record<string, unknown>): EventBridgeEnvelope {
  return {
    id: stringOr(value.id),
    source: stringOr(value.source),
    detailType: stringOr(value["detail-type"]),
    awsAccount: stringOr(value.account),
    detail: value.detail,
  };
}

/**
 * Why an envelope is not trusted, in one line naming the setting to change, or undefined when its
 * `source` starts with a configured prefix and its `account` is a configured AWS account.
 */
export function distrustOf(envelope: EventBridgeEnvelope, trust: EventBridgeTrust): string | undefined {
  const source = JSON.stringify(envelope.source ?? null);
  const account = JSON.stringify(envelope.awsAccount ?? null);
  if (trust.sources.length === 0 || trust.awsAccounts.length === 0)
    return `an EventBridge envelope (source ${source}, account ${account}), but this worker accepts none: set EVENTBRIDGE_SOURCES and EVENTBRIDGE_AWS_ACCOUNTS`;
  const isTrustedSource =
    envelope.source !== undefined && trust.sources.some((prefix) => envelope.source!.startsWith(prefix));
  if (!isTrustedSource)
    return `EventBridge source ${source} is not one of EVENTBRIDGE_SOURCES (${trust.sources.join(", ")})`;
  if (envelope.awsAccount === undefined || !trust.awsAccounts.includes(envelope.awsAccount))
    return `EventBridge account ${account} is not one of EVENTBRIDGE_AWS_ACCOUNTS (${trust.awsAccounts.join(", ")})`;
  return undefined;
}

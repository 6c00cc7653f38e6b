import { readFileSync } from "node:fs";
import type { EventBridgeTrust } from "../../src/domain/ingest/eventbridge-envelope.js";

/** The Stripe event destination and AWS account the tests' workers trust. */
export const TRUSTED_EVENTBRIDGE: EventBridgeTrust = {
  sources: ["aws.partner/stripe.com/ed_test_61SyncE2eDestination"],
  awsAccounts: ["123456789012"],
};

/** The same, as the worker's environment (EVENTBRIDGE_SOURCES, EVENTBRIDGE_AWS_ACCOUNTS). */
export const TRUSTED_EVENTBRIDGE_ENV: NodeJS.ProcessEnv = {
  EVENTBRIDGE_SOURCES: TRUSTED_EVENTBRIDGE.sources.join(","),
  EVENTBRIDGE_AWS_ACCOUNTS: TRUSTED_EVENTBRIDGE.awsAccounts.join(","),
};

/** Where an envelope claims to come from (default: the trusted destination and account). */
export interface EnvelopeOrigin {
  source?: string;
  account?: string;
  region?: string;
}

/**
 * The message body an EventBridge rule puts on an SQS queue for a Stripe event (snapshot or thin):
 * the envelope itself, `detail-type` the event's type, `detail` the event.
 */
export function eventBridgeBody(
  detail: { id?: unknown; type?: unknown },
  origin: EnvelopeOrigin = {},
): string {
  return JSON.stringify({
    version: "0",
    id: `0b7ab1c4-${String(detail.id).slice(-8).padStart(8, "0")}-4c1e-9d7e-5e5d1c2b3a4f`,
    "detail-type": detail.type,
    source: origin.source ?? TRUSTED_EVENTBRIDGE.sources[0],
    account: origin.account ?? TRUSTED_EVENTBRIDGE.awsAccounts[0],
    time: "2025-01-01T01:00:01Z",
    region: origin.region ?? "us-east-1",
    resources: [],
    detail,
  });
}

/** A thin event notification fixture (`test/fixtures/stripe/<name>.thin.json`) with `patch` merged in. */
export function loadThinEvent(name: string, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const url = new URL(`../fixtures/stripe/${name}.thin.json`, import.meta.url);
  return { ...(JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>), ...patch };
}

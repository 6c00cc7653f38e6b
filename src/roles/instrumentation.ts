// Loaded only when tracing is on (start-telemetry.ts): build-webhook.ts and build-worker.ts import its
// type alone, so with tracing off none of the span-making modules (nor the SDK) is loaded.
import type { EnqueueTracer } from "../domain/ingest/enqueue-tracer.js";
import type { StripeObjectReader } from "../domain/sync/stripe-port.js";
import type { SyncStore } from "../domain/sync/sync-store-port.js";
import { tracedSalesforceFetch } from "../data-access/salesforce/traced-salesforce-fetch.js";
import { sqsEnqueueTracer } from "../data-access/sqs/sqs-enqueue-tracer.js";
import { tracedSyncStore } from "../data-access/store/traced-sync-store.js";
import { tracedStripeReader } from "../data-access/stripe/traced-stripe-reader.js";
import { STRIPE_WEBHOOK_PATH } from "../entry-points/webhook/stripe-webhook-handler.js";
import {
  webhookRequestTracer,
  type WebhookRequestTracer,
} from "../entry-points/webhook/webhook-request-tracer.js";
import { MessageTracing } from "../entry-points/worker/message-tracing.js";
import type { Tracing } from "../shared/tracing.js";

/** The hooks the roles install when tracing is on: every span of the service starts in one of them. */
export interface Instrumentation {
  tracing: Tracing;
  /** The webhook's server span per POST. */
  webhookRequests: WebhookRequestTracer;
  /** The producer span per enqueue, whose context the message carries. */
  enqueues(queueUrl: string): EnqueueTracer;
  /** The worker's message and group spans, and each event's outcome on its message's span. */
  messages(queueUrl: string): MessageTracing;
  /** The sync store, a span per round trip. */
  store(store: SyncStore, system: "redis" | "memory"): SyncStore;
  /** The Stripe re-reader, a span per read. */
  stripeReader(reader: StripeObjectReader): StripeObjectReader;
  /** The Salesforce client's fetch, a span per call. */
  salesforceFetch(doFetch: typeof fetch): typeof fetch;
}

/** The instrumentation of both roles over one started Tracing. */
export function createInstrumentation(tracing: Tracing): Instrumentation {
  const { tracer } = tracing;
  return {
    tracing,
    webhookRequests: webhookRequestTracer(tracing, STRIPE_WEBHOOK_PATH),
    enqueues: (queueUrl) => sqsEnqueueTracer(tracing, queueUrl),
    messages: (queueUrl) => new MessageTracing(tracing, queueUrl),
    store: (store, system) => tracedSyncStore(store, tracer, system),
    stripeReader: (reader) => tracedStripeReader(reader, tracer),
    salesforceFetch: (doFetch) => tracedSalesforceFetch(doFetch, tracer),
  };
}

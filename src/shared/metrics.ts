import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Every Prometheus metric the service exposes, registered on one registry per process. */
export interface Metrics {
  registry: Registry;
  /** Webhook requests by Stripe event type and outcome (accepted, ignored, invalid_signature, bad_request, too_large, incomplete_body, enqueue_failed, enqueue_rejected). */
  webhooks: Counter<"event_type" | "outcome">;
  /** Webhook request duration in seconds, by outcome. */
  webhookDuration: Histogram<"outcome">;
  /** Time from a message being handed to the enqueue batcher to SQS acknowledging it. */
  enqueueDuration: Histogram<"outcome">;
  /** Messages per SendMessageBatch call. */
  enqueueBatchSize: Histogram<string>;
  /** Events handled by the worker by type and outcome (applied, duplicate, stale, ignored, retried, dead_lettered). */
  syncEvents: Counter<"event_type" | "outcome">;
  /** Events acknowledged without a write, by reason (unhandled_event_type, checkout_without_subscription, other_mode, thin_event_unsupported). */
  ignoredEvents: Counter<"reason">;
  /** Events handled by the worker by Stripe account (a connected account's `acct_...`, else `platform`) and outcome. */
  accountEvents: Counter<"account" | "outcome">;
  /** Connect events applied to an object whose org lacks Stripe_Account_Id__c (written without the account), by object. */
  connectWritesWithoutAccount: Counter<"object">;
  /** Messages received from the queue, redeliveries included, by origin (webhook, eventbridge). */
  messagesReceived: Counter<"origin">;
  /** Messages sent to the dead-letter queue, by reason code. */
  deadLetters: Counter<"reason">;
  /** Salesforce REST calls by operation (upsert, query, describe, token) and HTTP status or error code. */
  salesforceCalls: Counter<"operation" | "status">;
  /** Records per Salesforce collections call. */
  salesforceRecordsPerCall: Histogram<"object">;
  /** OAuth token requests by flow and outcome. */
  salesforceTokenRequests: Counter<"flow" | "outcome">;
  /** Daily API usage reported by `Sforce-Limit-Info` (kind=used|limit). */
  salesforceApiUsage: Gauge<"kind">;
  /** Seconds from the Stripe event's `created` to its write landing in Salesforce. */
  eventLag: Histogram<string>;
  /** Messages per SQS ReceiveMessage answer. */
  receiveBatchSize: Histogram<string>;
  /** Messages the worker holds right now. */
  messagesInFlight: Gauge<string>;
  /** Records whose state was read from the org, by reason (cache_miss, redelivery). */
  orgRecordReads: Counter<"reason">;
  /** Extra Salesforce calls spent finding the record a whole request was refused for. */
  salesforceIsolationCalls: Counter<string>;
  /** This service's daily API budget: kind=limit, used (rolling 24 h, all replicas), remaining. */
  salesforceApiBudget: Gauge<"kind">;
  /** Seconds Salesforce calls waited for the daily API budget. */
  apiBudgetWait: Counter<string>;
  /** 1 while the worker stopped consuming, by reason (salesforce_unavailable, api_limit_exhausted, org_refuses_writes). */
  workerPaused: Gauge<"reason">;
}

/** Creates the metrics on a fresh registry (with Node process metrics unless `collectDefaults` is false). */
export function createMetrics(options: { collectDefaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.collectDefaults ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const batchBuckets = [1, 2, 3, 5, 10, 25, 50, 100, 200];
  return {
    registry,
    webhooks: new Counter({
      name: "stripe_webhooks_total",
      help: "Stripe webhook requests by event type and outcome.",
      labelNames: ["event_type", "outcome"],
      registers,
    }),
    webhookDuration: new Histogram({
      name: "stripe_webhook_request_duration_seconds",
      help: "Webhook request duration in seconds.",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    enqueueDuration: new Histogram({
      name: "sqs_enqueue_duration_seconds",
      help: "Seconds from handing a message to the enqueue batcher to SQS acknowledging it.",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    enqueueBatchSize: new Histogram({
      name: "sqs_enqueue_batch_size",
      help: "Messages per SendMessageBatch call.",
      buckets: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      registers,
    }),
    syncEvents: new Counter({
      name: "sync_events_total",
      help: "Stripe events handled by the worker, by type and outcome.",
      labelNames: ["event_type", "outcome"],
      registers,
    }),
    ignoredEvents: new Counter({
      name: "sync_events_ignored_total",
      help: "Events acknowledged without a write, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    accountEvents: new Counter({
      name: "sync_account_events_total",
      help: "Events handled by the worker by Stripe account (acct_... for a connected account, platform otherwise) and outcome.",
      labelNames: ["account", "outcome"],
      registers,
    }),
    connectWritesWithoutAccount: new Counter({
      name: "sync_connect_writes_without_account_total",
      help: "Connect events written to an object whose org lacks Stripe_Account_Id__c, so without the account id.",
      labelNames: ["object"],
      registers,
    }),
    messagesReceived: new Counter({
      name: "sync_messages_received_total",
      help: "Messages received from the queue, redeliveries included, by origin (webhook or eventbridge).",
      labelNames: ["origin"],
      registers,
    }),
    deadLetters: new Counter({
      name: "sync_dead_letter_total",
      help: "Messages sent to the dead-letter queue, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    salesforceCalls: new Counter({
      name: "salesforce_api_calls_total",
      help: "Salesforce REST API calls by operation and status.",
      labelNames: ["operation", "status"],
      registers,
    }),
    salesforceRecordsPerCall: new Histogram({
      name: "salesforce_records_per_call",
      help: "Records sent per Salesforce collections call.",
      labelNames: ["object"],
      buckets: batchBuckets,
      registers,
    }),
    salesforceTokenRequests: new Counter({
      name: "salesforce_token_requests_total",
      help: "Salesforce OAuth token requests by flow and outcome.",
      labelNames: ["flow", "outcome"],
      registers,
    }),
    salesforceApiUsage: new Gauge({
      name: "salesforce_api_usage",
      help: "Daily API requests used and allowed, from Sforce-Limit-Info.",
      labelNames: ["kind"],
      registers,
    }),
    eventLag: new Histogram({
      name: "sync_event_lag_seconds",
      help: "Seconds from the Stripe event's created time to its write landing in Salesforce.",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    receiveBatchSize: new Histogram({
      name: "sqs_receive_batch_size",
      help: "Messages per SQS ReceiveMessage answer.",
      buckets: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      registers,
    }),
    messagesInFlight: new Gauge({
      name: "sync_messages_in_flight",
      help: "Messages the worker holds right now.",
      registers,
    }),
    orgRecordReads: new Counter({
      name: "sync_org_reads_total",
      help: "Records whose state was read from the Salesforce org (the store did not know them, or their event was redelivered).",
      labelNames: ["reason"],
      registers,
    }),
    salesforceApiBudget: new Gauge({
      name: "salesforce_api_budget",
      help: "This service's daily Salesforce API budget (kind=limit, used over the rolling 24 h by every replica, remaining).",
      labelNames: ["kind"],
      registers,
    }),
    apiBudgetWait: new Counter({
      name: "sync_api_budget_wait_seconds_total",
      help: "Seconds Salesforce calls waited for the daily API budget (SALESFORCE_DAILY_API_BUDGET).",
      registers,
    }),
    workerPaused: new Gauge({
      name: "sync_worker_paused",
      help: "1 while the worker stopped consuming because Salesforce is unavailable, the org's API limit is spent or the org refuses writes (reason).",
      labelNames: ["reason"],
      registers,
    }),
    salesforceIsolationCalls: new Counter({
      name: "salesforce_isolation_calls_total",
      help: "Extra Salesforce calls spent splitting a request refused as a whole to find the bad record.",
      registers,
    }),
  };
}

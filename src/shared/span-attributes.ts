/**
 * The span attribute names the service writes, in one place: OpenTelemetry's semantic conventions
 * where they name the thing (messaging, HTTP, database), `stripe.*` and `sync.*` for the rest.
 */
export const SPAN_ATTRIBUTE = {
  correlationId: "sync.correlation_id",
  eventId: "stripe.event.id",
  eventType: "stripe.event.type",
  /** What became of the request or the event: accepted, ignored, applied, duplicate, retry, dead-letter... */
  outcome: "sync.outcome",
  outcomeReason: "sync.outcome.reason",
  bodyFormat: "sync.body_format",
  receiveCount: "sync.receive_count",
  groupSize: "sync.group.size",
  messageId: "messaging.message.id",
  batchMessageCount: "messaging.batch.message_count",
  httpMethod: "http.request.method",
  httpRoute: "http.route",
  httpStatus: "http.response.status_code",
  serverAddress: "server.address",
  dbSystem: "db.system.name",
  dbOperation: "db.operation.name",
  storeKeys: "sync.store.keys",
  stripeObject: "stripe.object",
  stripeObjectId: "stripe.object.id",
  isStripeObjectFound: "stripe.object.found",
  salesforceOperation: "salesforce.operation",
  salesforceObjects: "salesforce.objects",
  salesforceRecordCount: "salesforce.record_count",
  salesforceSubrequests: "salesforce.subrequests",
  salesforceApiUsed: "salesforce.api_usage.used",
  salesforceApiLimit: "salesforce.api_usage.limit",
} as const;

/** The queue's name, the last segment of its URL (`.../123456789012/stripe-events` -> `stripe-events`). */
export function queueNameOf(queueUrl: string): string {
  try {
    return new URL(queueUrl).pathname.split("/").filter(Boolean).pop() ?? queueUrl;
  } catch {
    return queueUrl;
  }
}

/** The messaging attributes of a span about `queueUrl` (`send` on the webhook, `process` in the worker). */
export function messagingAttributes(queueUrl: string, operation: "send" | "process"): Record<string, string> {
  return {
    "messaging.system": "aws_sqs",
    "messaging.destination.name": queueNameOf(queueUrl),
    "messaging.operation.type": operation,
    "messaging.operation.name": operation,
  };
}

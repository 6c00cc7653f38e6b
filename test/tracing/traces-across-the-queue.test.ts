import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { createInstrumentation } from "../../src/roles/instrumentation.js";
import {
  E2E_WEBHOOK_SECRET,
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "../e2e/support/pipeline.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { signPayload } from "../support/signing.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { captureLogLines, otelEnv, startTestTracing } from "./support/traced-process.js";

/** OTLP's span kinds. */
const KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

const customerEvent = (n: number): StripeEvent =>
  loadEvent("customer.updated", {
    id: `evt_traced_${n}`,
    object: { id: `cus_traced_${n}`, name: `Traced ${n}` },
  });

/** The one span named `name` (by prefix) among `spans`; fails naming what there is otherwise. */
function only(spans: ReceivedSpan[], name: string, where: (span: ReceivedSpan) => boolean = () => true) {
  const found = spans.filter((span) => span.name.startsWith(name) && where(span));
  expect(found, `spans named ${name}: ${spans.map((s) => s.name).join(", ")}`).to.have.length(1);
  return found[0]!;
}

/** POSTs a signed event with extra headers; answers the status. */
async function postEvent(pipeline: Pipeline, event: StripeEvent, headers: Record<string, string> = {}) {
  const payload = JSON.stringify(event);
  const response = await fetch(`${pipeline.webUrl}/webhook/stripe`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "stripe-signature": signPayload(payload, E2E_WEBHOOK_SECRET),
      ...headers,
    },
    body: payload,
  });
  await response.text();
  return response.status;
}

describe("tracing: one event followed across the queue", function () {
  this.timeout(60_000);
  let infra: Infrastructure;
  let receiver: OtlpReceiver;
  let pipeline: Pipeline | undefined;

  before(async () => {
    [infra, receiver] = await Promise.all([startInfrastructure(), startOtlpReceiver()]);
  });
  after(async () => {
    await Promise.all([infra?.stop(), receiver?.stop()]);
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    receiver.clear();
  });

  describe("with the OTEL_* variables set", () => {
    let stopTracing: () => Promise<void>;
    let logs: ReturnType<typeof captureLogLines>;
    let instrumentation: ReturnType<typeof createInstrumentation>;

    before(async () => {
      logs = captureLogLines();
      const started = await startTestTracing(otelEnv(receiver), { logger: logs.logger });
      stopTracing = started.stop;
      instrumentation = createInstrumentation(started.tracing);
    });
    after(async () => {
      logs?.stop();
      await stopTracing?.();
    });

    it("one webhook is one trace: the request, its enqueue, the worker's processing and the Salesforce write, each the child of the one before", async () => {
      pipeline = await startPipeline(infra, { instrumentation, logger: logs.logger });
      const event = customerEvent(1);
      expect(await postEvent(pipeline, event, { "x-request-id": "corr-traced-1" })).to.equal(200);
      await pipeline.waitForRecord("Stripe_Customer__c", "cus_traced_1");

      const spans = await receiver.waitForSpans(
        (all) => all.some((s) => s.name.startsWith("process ")) && all.some((s) => s.name === "sync group"),
        "the worker's spans",
      );
      const request = only(spans, "POST /webhook/stripe");
      const trace = spans.filter((span) => span.traceId === request.traceId);
      const send = only(trace, "send ");
      const process = only(trace, "process ");
      const group = only(trace, "sync group");
      const write = only(trace, "salesforce ", (s) => s.attributes["salesforce.record_count"] !== undefined);

      expect(request).to.include({ parentSpanId: "", kind: KIND.server });
      expect(request.attributes).to.include({
        "http.response.status_code": 200,
        "sync.outcome": "accepted",
        "sync.correlation_id": "corr-traced-1",
        "stripe.event.id": event.id,
      });
      expect(send).to.include({ parentSpanId: request.spanId, kind: KIND.producer });
      expect(send.attributes).to.include({ "messaging.system": "aws_sqs", "stripe.event.id": event.id });
      // The message carried the producer's context: the worker's span continues it.
      expect(process).to.include({ parentSpanId: send.spanId, kind: KIND.consumer });
      expect(process.attributes).to.include({
        "stripe.event.id": event.id,
        "sync.correlation_id": "corr-traced-1",
        "sync.outcome": "applied",
        "sync.receive_count": 1,
      });
      // A group of one continues its message's trace, and links it too.
      expect(group).to.include({ parentSpanId: process.spanId, kind: KIND.internal });
      expect(group.links.map((link) => link.spanId)).to.deep.equal([process.spanId]);
      expect(write.kind).to.equal(KIND.client);
      expect(write.attributes).to.include({ "http.response.status_code": 200, "salesforce.record_count": 1 });
      expect(write.attributes["salesforce.objects"]).to.deep.equal(["Stripe_Customer__c"]);
      expect(write.attributes["salesforce.api_usage.used"]).to.be.a("number");
      expect(write.attributes["salesforce.api_usage.limit"]).to.be.a("number");

      // Everything the worker did for the group hangs below the group span.
      const byId = new Map(trace.map((span) => [span.spanId, span]));
      const isBelowGroup = (span: ReceivedSpan): boolean =>
        span.parentSpanId === group.spanId ||
        (byId.has(span.parentSpanId) && isBelowGroup(byId.get(span.parentSpanId)!));
      expect(isBelowGroup(write), "the Salesforce write is below the group span").to.equal(true);
      const storeCalls = trace.filter((span) => span.name.startsWith("store "));
      expect(storeCalls.map((span) => span.name)).to.include.members([
        "store findAppliedEvents",
        "store leases.acquire",
        "store leases.commit",
      ]);
      expect(storeCalls.every(isBelowGroup)).to.equal(true);
      expect(request.resource["service.name"]).to.equal("sync-under-test");

      // The worker's line for the event carries the trace id beside the correlation id.
      const handled = logs
        .lines()
        .find((line) => line.message === "event handled" && line.eventId === event.id);
      expect(handled).to.include({
        correlationId: "corr-traced-1",
        traceId: request.traceId,
        spanId: process.spanId,
      });
    });

    it("a webhook that carries a traceparent continues the caller's trace", async () => {
      pipeline = await startPipeline(infra, { instrumentation, logger: logs.logger });
      const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
      const callerSpan = "00f067aa0ba902b7";
      const status = await postEvent(pipeline, customerEvent(2), {
        traceparent: `00-${callerTrace}-${callerSpan}-01`,
      });
      expect(status).to.equal(200);
      const spans = await receiver.waitForSpans(
        (all) => all.some((s) => s.name.startsWith("process ") && s.traceId === callerTrace),
        "the worker's span in the caller's trace",
      );
      expect(only(spans, "POST /webhook/stripe")).to.include({
        traceId: callerTrace,
        parentSpanId: callerSpan,
      });
    });

    it("the queue message carries traceparent within SQS's ten attributes", async () => {
      pipeline = await startPipeline(infra, { instrumentation, logger: logs.logger, workers: 0 });
      expect(await postEvent(pipeline, customerEvent(3))).to.equal(200);
      const { Messages = [] } = await pipeline.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queueUrl,
          MessageAttributeNames: ["All"],
          WaitTimeSeconds: 1,
        }),
      );
      const attributes = Messages[0]?.MessageAttributes ?? {};
      const send = (
        await receiver.waitForSpans((all) => all.some((s) => s.name.startsWith("send ")), "send")
      )[0]!;
      expect(Object.keys(attributes).sort()).to.deep.equal([
        "correlation_id",
        "event_id",
        "event_type",
        "traceparent",
      ]);
      expect(attributes.traceparent?.StringValue).to.equal(`00-${send.traceId}-${send.spanId}-01`);
    });

    it("fifty webhooks synced as one group: the group span links all fifty messages, each of which links back", async () => {
      // One receive loop and one lane: the worker finds the fifty waiting and gathers them in one group.
      pipeline = await startPipeline(infra, {
        instrumentation,
        logger: logs.logger,
        workers: 0,
        worker: { concurrency: 1, lanes: 1, coalesceMs: 500, maxFillMs: 5000 },
      });
      const events = Array.from({ length: 50 }, (_, i) => customerEvent(100 + i));
      const statuses = await Promise.all(events.map((event) => postEvent(pipeline!, event)));
      expect(statuses.every((status) => status === 200)).to.equal(true);
      await pipeline.startWorkers(1);
      const spans = await receiver.waitForSpans(
        (all) =>
          all.some((s) => s.name === "sync group") &&
          all.filter((s) => s.name.startsWith("process ")).length === 50,
        "fifty message spans and the group span",
      );

      const requests = spans.filter((span) => span.name === "POST /webhook/stripe");
      const processes = spans.filter((span) => span.name.startsWith("process "));
      const group = only(spans, "sync group");
      expect(group.attributes).to.include({ "sync.group.size": 50, "messaging.batch.message_count": 50 });
      expect(group.parentSpanId, "a group of many starts its own trace").to.equal("");
      expect(group.links).to.have.length(50);
      expect(new Set(group.links.map((link) => link.spanId))).to.deep.equal(
        new Set(processes.map((s) => s.spanId)),
      );
      expect(new Set(group.links.map((link) => link.traceId))).to.deep.equal(
        new Set(requests.map((s) => s.traceId)),
      );
      expect(new Set(group.links.map((link) => link.attributes["stripe.event.id"]))).to.deep.equal(
        new Set(events.map((event) => event.id)),
      );
      for (const process of processes) {
        expect(process.links.map((link) => link.spanId)).to.deep.equal([group.spanId]);
        expect(process.attributes["sync.outcome"]).to.equal("applied");
      }
      const writes = spans.filter(
        (span) => span.traceId === group.traceId && span.name.startsWith("salesforce "),
      );
      const written = writes.reduce(
        (sum, span) => sum + Number(span.attributes["salesforce.record_count"] ?? 0),
        0,
      );
      expect(written).to.equal(50);
    });
  });

  describe("with no OTEL_* variable set", () => {
    it("the pipeline makes no span and puts no trace context on the message", async () => {
      pipeline = await startPipeline(infra, { workers: 0 });
      expect(
        await postEvent(pipeline, customerEvent(4), {
          traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        }),
      ).to.equal(200);
      const { Messages = [] } = await pipeline.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queueUrl,
          MessageAttributeNames: ["All"],
          WaitTimeSeconds: 1,
          VisibilityTimeout: 0,
        }),
      );
      expect(Object.keys(Messages[0]?.MessageAttributes ?? {}).sort()).to.deep.equal([
        "correlation_id",
        "event_id",
        "event_type",
      ]);
      await pipeline.startWorkers(1);
      await pipeline.waitForRecord("Stripe_Customer__c", "cus_traced_4");
      await pipeline.waitUntilQueueEmpty();
      expect(receiver.requests()).to.equal(0);
    });
  });
});

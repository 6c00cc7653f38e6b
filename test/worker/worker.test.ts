import { expect } from "chai";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { DEFAULT_RETRY_POLICY } from "../../src/entry-points/worker/backoff.js";
import { createWorker, type Worker, type WorkerOptions } from "../../src/entry-points/worker/worker.js";
import { createLogger } from "../../src/shared/logger.js";
import { waitFor } from "../support/child-server.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import {
  ScriptedSyncer,
  capturingLogger,
  customerUpdated,
  gate,
  queueDepth,
  quickRetry,
  receiveMessages,
  sendEvent,
  sendRaw,
  testMetrics,
  testWorkerConfig,
  uniqueQueueName,
  waitUntilEmpty,
} from "./worker-harness.js";

describe("worker: SQS consumer", function () {
  this.timeout(60_000);
  let server: SqsServer;
  let sqs: SQSClient;
  const running: Worker[] = [];

  before(async () => {
    server = await startSqsServer();
    sqs = server.client();
  });
  after(async () => {
    sqs.destroy();
    await server.stop();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((w) => w.stop()));
  });

  async function queueWithDlq(maxReceiveCount = 5) {
    const { queueUrl, dlqUrl } = await server.createQueue(uniqueQueueName("worker"), {
      deadLetter: { maxReceiveCount },
    });
    return { queueUrl, dlqUrl: dlqUrl! };
  }

  async function startWorker(
    overrides: Partial<WorkerOptions> & Pick<WorkerOptions, "queueUrl" | "syncer">,
  ): Promise<Worker> {
    const worker = createWorker({
      sqs,
      config: testWorkerConfig(),
      metrics: testMetrics(),
      logger: createLogger({ silent: true }),
      retry: quickRetry,
      ...overrides,
    });
    running.push(worker);
    await worker.start();
    return worker;
  }

  it("deletes a message only after syncEvents reported it applied", async () => {
    const { queueUrl } = await queueWithDlq();
    const held = gate();
    const syncer = new ScriptedSyncer(undefined, () => held.promise);
    await sendEvent(sqs, queueUrl, customerUpdated("evt_wait_1"));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_wait_2"));
    await startWorker({ queueUrl, syncer });

    await waitFor(
      async () => syncer.calls.flatMap((c) => c.eventIds).length === 2,
      10000,
      "both events handed over",
    );
    expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 2 });

    held.open();
    await waitUntilEmpty(sqs, queueUrl);
    expect(syncer.attemptsOf("evt_wait_1")).to.equal(1);
    expect(syncer.attemptsOf("evt_wait_2")).to.equal(1);
  });

  it("settles a mixed batch message by message: applied deleted, retry redelivered, dead-letter parked", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const { logger, lines } = capturingLogger();
    const metrics = testMetrics();
    const syncer = new ScriptedSyncer((event, attempt) => {
      if (event.id === "evt_retry" && attempt === 1)
        return { status: "retry", reason: "UNABLE_TO_LOCK_ROW", scope: "record" };
      if (event.id === "evt_dead")
        return { status: "dead-letter", reason: "STRING_TOO_LONG", detail: "Name: data value too large" };
      if (event.id === "evt_ignored") return { status: "ignored", reason: "unhandled_event_type" };
      return { status: "applied" };
    });
    const deadEvent = customerUpdated("evt_dead");
    for (const id of ["evt_ok_1", "evt_ok_2", "evt_retry", "evt_ignored"])
      await sendEvent(sqs, queueUrl, customerUpdated(id));
    await sendEvent(sqs, queueUrl, deadEvent, "corr-dead");
    // No dlqUrl given: the worker finds the DLQ through the queue's RedrivePolicy.
    await startWorker({ queueUrl, syncer, logger, metrics, config: testWorkerConfig({ concurrency: 1 }) });

    await waitUntilEmpty(sqs, queueUrl);
    expect(syncer.attemptsOf("evt_ok_1")).to.equal(1);
    expect(syncer.attemptsOf("evt_ok_2")).to.equal(1);
    expect(syncer.attemptsOf("evt_ignored")).to.equal(1);
    expect(syncer.attemptsOf("evt_retry")).to.equal(2);
    expect(syncer.attemptsOf("evt_dead")).to.equal(1);

    const parked = await receiveMessages(sqs, dlqUrl, 1);
    expect(parked).to.have.length(1);
    const [message] = parked;
    expect(message!.Body).to.equal(JSON.stringify(deadEvent));
    const attributes = message!.MessageAttributes ?? {};
    expect(attributes.dlq_reason?.StringValue).to.equal("STRING_TOO_LONG");
    expect(attributes.dlq_detail?.StringValue).to.equal("Name: data value too large");
    expect(attributes.dlq_receive_count?.StringValue).to.equal("1");
    expect(attributes.dlq_source_message_id?.StringValue).to.be.a("string").and.not.equal("");
    expect(attributes.correlation_id?.StringValue).to.equal("corr-dead");
    expect(attributes.event_id?.StringValue).to.equal("evt_dead");

    const deadLetterCount = await metrics.deadLetters.get();
    expect(deadLetterCount.values).to.deep.include({ value: 1, labels: { reason: "STRING_TOO_LONG" } });

    const outcomeLines = lines.filter((l) => l.eventId === "evt_retry" && l.outcome !== undefined);
    expect(outcomeLines.map((l) => l.outcome)).to.deep.equal(["retry", "applied"]);
    expect(outcomeLines[0]).to.include({
      correlationId: "corr-evt_retry",
      eventType: "customer.updated",
      reason: "UNABLE_TO_LOCK_ROW",
    });
    expect(outcomeLines[0]!.messageId).to.be.a("string");
  });

  it("retries a record-level failure inside the worker within a second, not after the queue's backoff", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const { logger, lines } = capturingLogger();
    const syncer = new ScriptedSyncer((_event, attempt) =>
      attempt === 1 ? { status: "retry", reason: "record_busy", scope: "record" } : { status: "applied" },
    );
    await sendEvent(sqs, queueUrl, customerUpdated("evt_busy"));
    // The production schedule: the queue's backoff would hide the message for 15 to 30 seconds.
    await startWorker({ queueUrl, dlqUrl, syncer, logger, retry: DEFAULT_RETRY_POLICY });

    await waitUntilEmpty(sqs, queueUrl);
    expect(syncer.attemptsOf("evt_busy")).to.equal(2);
    const retried = lines.find((l) => l.eventId === "evt_busy" && l.outcome === "retry");
    expect(retried?.retryInMs).to.be.within(125, 375);
    expect(syncer.calls.map((c) => c.redeliveredIds)).to.deep.equal([[], []]);
  });

  it("after its quick retries, a record that keeps failing goes back to the queue for the backoff", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const { logger, lines } = capturingLogger();
    const syncer = new ScriptedSyncer((_event, attempt) =>
      attempt <= 4
        ? { status: "retry", reason: "UNABLE_TO_LOCK_ROW", scope: "record" }
        : { status: "applied" },
    );
    await sendEvent(sqs, queueUrl, customerUpdated("evt_stubborn"));
    await startWorker({ queueUrl, dlqUrl, syncer, logger });

    // The fifth attempt first: a queue's depth can read 0 for a moment while the message waits out its
    // backoff (seen with moto), which is no proof that the attempt happened.
    await waitFor(async () => syncer.attemptsOf("evt_stubborn") >= 5, 20_000, "the fifth attempt");
    await waitUntilEmpty(sqs, queueUrl, 20_000);
    expect(syncer.attemptsOf("evt_stubborn")).to.equal(5);
    expect(lines.filter((l) => l.message === "event will be retried").length).to.equal(
      quickRetry.quickAttempts,
    );
    expect(lines.filter((l) => l.message === "event will be retried from the queue").length).to.equal(1);
    // The fifth try came from the queue: a second delivery.
    expect(syncer.calls.at(-1)?.redeliveredIds).to.deep.equal(["evt_stubborn"]);
  });

  it("parks a body that is not a Stripe event as unparseable_body without bothering the domain", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const syncer = new ScriptedSyncer();
    await sendRaw(sqs, queueUrl, "{not json", { correlation_id: "corr-garbage" });
    await sendRaw(sqs, queueUrl, JSON.stringify({ hello: "world" }));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_fine"));
    await startWorker({ queueUrl, dlqUrl, syncer });

    await waitUntilEmpty(sqs, queueUrl);
    const parked = await receiveMessages(sqs, dlqUrl, 2);
    expect(parked.map((m) => m.Body).sort()).to.deep.equal(
      [JSON.stringify({ hello: "world" }), "{not json"].sort(),
    );
    for (const message of parked)
      expect(message.MessageAttributes?.dlq_reason?.StringValue).to.equal("unparseable_body");
    expect(syncer.calls.flatMap((c) => c.eventIds)).to.deep.equal(["evt_fine"]);
  });

  it("retries every message of a group when syncEvents throws, and loses none", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const syncer = new ScriptedSyncer(undefined, (_events, call) => {
      if (call === 1) throw new Error("salesforce connection reset");
    });
    const ids = ["evt_t1", "evt_t2", "evt_t3"];
    for (const id of ids) await sendEvent(sqs, queueUrl, customerUpdated(id));
    await startWorker({ queueUrl, dlqUrl, syncer, config: testWorkerConfig({ concurrency: 1 }) });

    await waitUntilEmpty(sqs, queueUrl);
    expect(syncer.calls.length).to.be.greaterThan(1);
    for (const id of ids) expect(syncer.attemptsOf(id), id).to.equal(1); // attempts count only calls that answered
    expect(await queueDepth(sqs, dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("keeps a slow message invisible to other consumers by extending its visibility", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const { logger, lines } = capturingLogger();
    const syncer = new ScriptedSyncer(undefined, () => new Promise((r) => setTimeout(r, 5000)));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_slow"));
    await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      logger,
      config: testWorkerConfig({ visibilityTimeoutSeconds: 2, concurrency: 1 }),
    });
    await waitFor(async () => syncer.calls.length === 1, 10000, "the slow call to start");

    // A second consumer polls for the whole time the first one works (5 s > 2 s visibility).
    const stolen = [];
    while (syncer.attemptsOf("evt_slow") === 0)
      stolen.push(...(await receiveMessages(sqs, queueUrl, 1, 1000)));
    expect(stolen, "message redelivered to a second consumer while being worked on").to.have.length(0);

    await waitUntilEmpty(sqs, queueUrl);
    expect(syncer.calls).to.have.length(1);
    expect(lines.filter((l) => l.message === "extended visibility").length).to.be.greaterThan(0);
    expect(
      lines.filter((l) => /failed/.test(String(l.message))),
      "no extension after the delete",
    ).to.deep.equal([]);
  });

  it("hands messages from several receives to one syncEvents call under a backlog", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const syncer = new ScriptedSyncer();
    const ids = Array.from({ length: 30 }, (_, i) => `evt_backlog_${i}`);
    await Promise.all(ids.map((id) => sendEvent(sqs, queueUrl, customerUpdated(id))));
    await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      config: testWorkerConfig({ concurrency: 3, batchSize: 10, coalesceMs: 200 }),
    });

    await waitUntilEmpty(sqs, queueUrl);
    const largest = Math.max(...syncer.calls.map((c) => c.eventIds.length));
    expect(largest, "events in the largest call (one receive brings at most 10)").to.be.greaterThan(10);
    expect(syncer.calls.flatMap((c) => c.eventIds).sort()).to.deep.equal([...ids].sort());
  });

  it("on stop, lets work in flight finish and deletes it", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const syncer = new ScriptedSyncer(undefined, () => new Promise((r) => setTimeout(r, 1000)));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_finishing"));
    const worker = await startWorker({ queueUrl, dlqUrl, syncer });
    await waitFor(async () => syncer.calls.length === 1, 10000, "the call to start");

    await worker.stop();
    expect(worker.isRunning()).to.equal(false);
    expect(syncer.attemptsOf("evt_finishing")).to.equal(1);
    expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("on stop, lets the long polls in flight answer and gives back what they bring, instead of losing it to a cut poll", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const syncer = new ScriptedSyncer();
    // A visibility timeout far beyond the test: a message handed to a poll nobody reads stays hidden.
    const worker = await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      config: testWorkerConfig({ waitTimeSeconds: 5, visibilityTimeoutSeconds: 600 }),
    });
    await waitFor(async () => worker.isRunning(), 10000, "the worker to receive");
    // Let the long polls reach the queue server and wait there on the empty queue.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stopping = worker.stop();
    await sendEvent(sqs, queueUrl, customerUpdated("evt_during_stop"));
    await stopping;
    expect(syncer.attemptsOf("evt_during_stop"), "a stopping worker starts no new work").to.equal(0);
    const [again] = await receiveMessages(sqs, queueUrl, 1, 5000);
    expect(again?.MessageAttributes?.event_id?.StringValue, "the message is visible again at once").to.equal(
      "evt_during_stop",
    );
  });

  it("on stop, leaves a write still running to its visibility timeout instead of releasing it", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const never = gate();
    const syncer = new ScriptedSyncer(undefined, () => never.promise);
    await sendEvent(sqs, queueUrl, customerUpdated("evt_stuck"));
    const worker = await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      config: testWorkerConfig({ shutdownTimeoutSeconds: 2, visibilityTimeoutSeconds: 6 }),
    });
    await waitFor(async () => syncer.calls.length === 1, 10000, "the call to start");

    await worker.stop();
    // Its write may still land: releasing it now could let another consumer write the record first.
    expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 1 });
    // The heartbeat stopped with the worker, so the visibility timeout brings it back, as after a SIGKILL.
    const [again] = await receiveMessages(sqs, queueUrl, 1, 30000);
    expect(again?.MessageAttributes?.event_id?.StringValue).to.equal("evt_stuck");
    never.open();
  });

  it("without any dead-letter queue keeps a permanently failing message instead of deleting it", async () => {
    const { queueUrl } = await server.createQueue(uniqueQueueName("no-dlq"));
    const metrics = testMetrics();
    const syncer = new ScriptedSyncer(() => ({
      status: "dead-letter",
      reason: "unmappable_payload",
      detail: "no email",
    }));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_nowhere"));
    await startWorker({ queueUrl, syncer, metrics, retry: { ...quickRetry, maxSeconds: 120 } });

    await waitFor(async () => syncer.attemptsOf("evt_nowhere") === 1, 10000, "the event to be handled");
    await waitFor(
      async () => (await metrics.messagesInFlight.get()).values[0]?.value === 0,
      10000,
      "the message settled",
    );
    expect(await queueDepth(sqs, queueUrl)).to.deep.equal({ visible: 0, inFlight: 1 });
    expect((await metrics.deadLetters.get()).values).to.deep.equal([]);
  });
});

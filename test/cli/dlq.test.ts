import { expect } from "chai";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { StripeEvent } from "../../src/domain/stripe-event.js";
import { spawnMain } from "../e2e/support/main-process.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "../e2e/support/pipeline.js";
import { eventsWrittenTwice } from "../e2e/support/event-stream.js";
import { queueDepth } from "../support/sqs-server.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { cli, cliEnv } from "./support/cli-harness.js";

/** A customer.updated event for its own customer. */
const customerEvent = (i: number): StripeEvent =>
  loadEvent("customer.updated", {
    id: `evt_dlq_${i}`,
    created: 1_760_000_000 + i,
    object: { id: `cus_dlq_${i}`, name: `Dead Letter ${i}` },
  });

/** Parks events on the dead-letter queue as the worker does: the event's attributes plus dlq_*. */
async function park(pipeline: Pipeline, events: StripeEvent[], reason?: string): Promise<void> {
  const string = (value: string) => ({ DataType: "String", StringValue: value });
  for (let i = 0; i < events.length; i += 10) {
    await pipeline.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: pipeline.dlqUrl,
        Entries: events.slice(i, i + 10).map((event, j) => ({
          Id: `e${j}`,
          MessageBody: JSON.stringify(event),
          MessageAttributes: {
            event_id: string(event.id),
            event_type: string(event.type),
            correlation_id: string(`corr-${event.id}`),
            ...(reason
              ? {
                  dlq_reason: string(reason),
                  dlq_detail: string(`${reason}: Name: data value too large`),
                  dlq_source_message_id: string(`src-${event.id}`),
                  dlq_receive_count: string("3"),
                }
              : {}),
          },
        })),
      }),
    );
  }
}

describe("cli: dlq list, show and redrive", function () {
  this.timeout(120_000);
  let infra: Infrastructure;
  let pipeline: Pipeline;
  let env: Record<string, string>;

  before(async () => {
    infra = await startInfrastructure();
  });
  after(() => infra.stop());
  beforeEach(async () => {
    pipeline = await startPipeline(infra, { workers: 0 });
    env = cliEnv(infra, pipeline);
  });
  afterEach(() => pipeline.stop());

  it("lists every dead letter with its reason, detail, receive count and event, and leaves them on the queue", async () => {
    await park(pipeline, [customerEvent(1), customerEvent(2)], "STRING_TOO_LONG");
    await park(pipeline, [customerEvent(3)]);
    const run = await cli(["dlq", "list"], env);
    expect(run.code, run.stderr).to.equal(0);
    const letters = run.of("dead_letter");
    expect(letters.map((l) => l.eventId).sort()).to.deep.equal(["evt_dlq_1", "evt_dlq_2", "evt_dlq_3"]);
    expect(letters.find((l) => l.eventId === "evt_dlq_1")).to.include({
      reason: "STRING_TOO_LONG",
      detail: "STRING_TOO_LONG: Name: data value too large",
      receiveCount: 3,
      eventType: "customer.updated",
    });
    expect(letters.find((l) => l.eventId === "evt_dlq_3")?.reason).to.equal("redrive_policy");
    expect(run.summary.byReason).to.deep.equal({ STRING_TOO_LONG: 2, redrive_policy: 1 });
    expect((await queueDepth(pipeline.sqs, pipeline.dlqUrl)).visible).to.equal(3);
  });

  it("shows one dead letter by event id with its attributes; an unknown id exits 1", async () => {
    await park(pipeline, [customerEvent(1)], "INVALID_FIELD");
    const run = await cli(["dlq", "show", "evt_dlq_1"], env);
    expect(run.code, run.stderr).to.equal(0);
    const [letter] = run.of("dead_letter");
    expect(letter?.attributes).to.include({ correlation_id: "corr-evt_dlq_1", dlq_reason: "INVALID_FIELD" });
    expect(letter).to.not.have.property("body");
    expect((await cli(["dlq", "show", "evt_nope"], env)).code).to.equal(1);
  });

  it("redrives only the dead letters of one reason, with their attributes and without the dlq_* ones; a dry run moves nothing", async () => {
    await park(pipeline, [customerEvent(1), customerEvent(2)], "STRING_TOO_LONG");
    await park(pipeline, [customerEvent(3)], "INVALID_FIELD");
    const dry = await cli(["dlq", "redrive", "--reason", "STRING_TOO_LONG", "--dry-run"], env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.summary.wouldRedrive).to.equal(2);
    expect((await queueDepth(pipeline.sqs, pipeline.queueUrl)).visible).to.equal(0);

    const run = await cli(["dlq", "redrive", "--reason", "STRING_TOO_LONG"], env);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.summary).to.include({ redriven: 2, leftOnDeadLetterQueue: 1 });
    const { ReceiveMessageCommand } = await import("@aws-sdk/client-sqs");
    const { Messages = [] } = await pipeline.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    expect(Messages).to.have.length(2);
    for (const message of Messages) {
      expect(Object.keys(message.MessageAttributes ?? {}).sort()).to.deep.equal([
        "correlation_id",
        "event_id",
        "event_type",
      ]);
    }
    expect((await queueDepth(pipeline.sqs, pipeline.dlqUrl)).visible).to.equal(1);
  });

  it("a redrive killed mid-way loses nothing and, run again, the worker writes every record exactly once", async () => {
    const events = Array.from({ length: 300 }, (_, i) => customerEvent(i));
    await park(pipeline, events, "UNABLE_TO_LOCK_ROW");
    const child = spawnMain(["dlq", "redrive", "--visibility-timeout", "2", "--json"], env);
    await child.waitUntil(
      async () => child.stdout().includes('"type":"redriven"'),
      "a first redriven message",
    );
    await child.kill("SIGKILL");
    const movedBeforeKill = child
      .stdout()
      .split("\n")
      .filter((line) => line.includes('"type":"redriven"')).length;
    console.log(`      (moved before the kill: ${movedBeforeKill} of 300)`);

    await new Promise((resolve) => setTimeout(resolve, 2500)); // the killed run's hidden messages come back
    const rerun = await cli(["dlq", "redrive"], env);
    expect(rerun.code, rerun.stderr).to.equal(0);
    expect((await queueDepth(pipeline.sqs, pipeline.dlqUrl)).visible).to.equal(0);

    await pipeline.startWorkers(1);
    await pipeline.waitUntilQueueEmpty(60_000);
    const history = pipeline.emulator.history("Stripe_Customer__c");
    expect(new Set(history.map((entry) => entry.externalId)).size, "every event landed").to.equal(300);
    expect(eventsWrittenTwice(history), "no event written twice").to.deep.equal([]);
    expect(history).to.have.length(300);
  });
});

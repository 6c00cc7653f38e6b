import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { startStripeMock, type StripeMock } from "../support/stripe-mock.js";
import {
  startInfrastructure,
  startPipeline,
  type Infrastructure,
  type Pipeline,
} from "./support/pipeline.js";

/** A small MaximumMessageSize (SQS allows 1 KiB and up): a few KB of event are then too large for the queue. */
const SMALL_QUEUE_BYTES = 2048;

describe("end to end: events larger than the queue accepts still land in Salesforce", function () {
  this.timeout(60_000);
  let infra: Infrastructure;
  let stripeMock: StripeMock | undefined;
  let pipeline: Pipeline | undefined;

  before(async () => {
    infra = await startInfrastructure();
    stripeMock = await startStripeMock();
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
  });
  after(async () => {
    await stripeMock?.stop();
    await infra?.stop();
  });

  async function pipelineOnSmallQueue(env: NodeJS.ProcessEnv = {}): Promise<Pipeline> {
    pipeline = await startPipeline(infra, { env });
    await pipeline.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: pipeline.queueUrl,
        Attributes: { MaximumMessageSize: String(SMALL_QUEUE_BYTES) },
      }),
    );
    return pipeline;
  }

  it("a compressible event goes gzipped and is written from its own payload", async () => {
    const p = await pipelineOnSmallQueue();
    const event = loadEvent("customer.updated", {
      id: "evt_e2e_gzip",
      object: { metadata: { note: "a long note ".repeat(800) } },
    });
    expect(JSON.stringify(event).length).to.be.greaterThan(4 * SMALL_QUEUE_BYTES);
    await p.sendEvent(event);
    const record = await p.waitForRecord("Stripe_Customer__c", String(event.data.object.id));
    expect(record).to.include({ Name: "Jenny Rosen", Last_Stripe_Event_Id__c: "evt_e2e_gzip" });
  });

  it("an incompressible event goes slimmed and the worker completes it from the Stripe API", async function () {
    if (!stripeMock) this.skip();
    const p = await pipelineOnSmallQueue({
      STRIPE_API_KEY: "sk_test_123",
      STRIPE_API_BASE: stripeMock!.apiBase,
    });
    const event = loadEvent("customer.updated", {
      id: "evt_e2e_slim",
      object: { metadata: { blob: randomBytes(3000).toString("base64") } },
    });
    await p.sendEvent(event);
    const record = await p.waitForRecord("Stripe_Customer__c", String(event.data.object.id));
    // What stripe-mock returns for the customer, not the event's payload ("Jenny Rosen").
    expect(record.Last_Stripe_Event_Id__c).to.equal("evt_e2e_slim");
    expect(record.Name).to.not.equal("Jenny Rosen");
  });
});

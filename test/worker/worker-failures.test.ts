import { expect } from "chai";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EventOutcome } from "../../src/domain/sync/sync-events.js";
import type { PauseScope } from "../../src/entry-points/worker/pause-gate.js";
import { createWorker, type Worker, type WorkerOptions } from "../../src/entry-points/worker/worker.js";
import { createLogger } from "../../src/shared/logger.js";
import { waitFor } from "../support/child-server.js";
import { ManualClock } from "../support/manual-clock.js";
import { startSqsServer, type SqsServer } from "../support/sqs-server.js";
import {
  ScriptedSyncer,
  customerUpdated,
  gate,
  queueDepth,
  quickRetry,
  sendEvent,
  testMetrics,
  testWorkerConfig,
  uniqueQueueName,
  waitUntilEmpty,
} from "./worker-harness.js";

const OUTAGE: EventOutcome = {
  status: "retry",
  reason: "SERVER_UNAVAILABLE",
  scope: "outage",
  detail: "Salesforce upsert failed with HTTP 503",
};

describe("worker: failures cost seconds and one record", function () {
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

  async function queueWithDlq() {
    const { queueUrl, dlqUrl } = await server.createQueue(uniqueQueueName("failures"), {
      deadLetter: { maxReceiveCount: 5 },
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

  it("an outage pauses consuming once: nothing is received while paused, held events land as soon as a probe passes", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const metrics = testMetrics();
    let isSalesforceUp = false;
    const probes: PauseScope[] = [];
    const syncer = new ScriptedSyncer(() => (isSalesforceUp ? { status: "applied" } : OUTAGE));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_outage_1"));
    const worker = await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      metrics,
      probe: async (scope) => {
        probes.push(scope);
        return isSalesforceUp;
      },
      probeSchedules: { outage: { firstMs: 100, maxMs: 200 } },
    });
    await waitFor(async () => worker.state().status === "paused", 10_000, "the worker to pause");
    expect(worker.state()).to.deep.include({ status: "paused", reason: "salesforce_unavailable" });
    expect((await metrics.workerPaused.get()).values).to.deep.include({
      value: 1,
      labels: { reason: "salesforce_unavailable" },
    });

    // Sent while paused: no new receive starts (a long poll already in flight may bring it, and
    // it is then held), and nothing is tried until Salesforce is back.
    const receives = async () =>
      (await metrics.receiveBatchSize.get()).values.find(
        (v) => v.metricName === "sqs_receive_batch_size_count",
      )?.value ?? 0;
    const receivesAtPause = await receives();
    await sendEvent(sqs, queueUrl, customerUpdated("evt_outage_2"));
    await waitFor(async () => probes.length >= 3, 10_000, "a few probes");
    expect(syncer.attemptsOf("evt_outage_2")).to.equal(0);
    expect(await receives()).to.be.at.most(receivesAtPause + testWorkerConfig().concurrency);

    isSalesforceUp = true;
    const upAt = performance.now();
    await waitUntilEmpty(sqs, queueUrl);
    const recoveredInMs = Math.round(performance.now() - upAt);
    console.log(`      recovery: both events landed ${recoveredInMs} ms after Salesforce answered again`);
    expect(worker.state().status).to.equal("ready");
    expect(probes.every((scope) => scope === "outage")).to.equal(true);
    // The held event was tried once during the outage, once after it: no per-message backoff rounds.
    expect(syncer.attemptsOf("evt_outage_1")).to.equal(2);
    expect(syncer.attemptsOf("evt_outage_2")).to.equal(1);
    expect(await queueDepth(sqs, dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("an org-wide refusal pauses with its reason in readiness and is never dead-lettered", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    let isFixed = false;
    const syncer = new ScriptedSyncer(() =>
      isFixed
        ? { status: "applied" }
        : {
            status: "retry",
            reason: "INVALID_FIELD",
            scope: "org",
            detail: "No such column 'Phone__c' on sobject of type Stripe_Customer__c",
          },
    );
    await sendEvent(sqs, queueUrl, customerUpdated("evt_org_1"));
    const worker = await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      probe: async () => isFixed,
      probeSchedules: { org: { firstMs: 100, maxMs: 100 } },
    });
    await waitFor(async () => worker.state().status === "paused", 10_000, "the worker to pause");
    expect(worker.state()).to.deep.equal({
      status: "paused",
      reason: "org_refuses_writes",
      detail: "No such column 'Phone__c' on sobject of type Stripe_Customer__c",
    });
    isFixed = true;
    await waitUntilEmpty(sqs, queueUrl);
    expect(await queueDepth(sqs, dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
  });

  it("a group past its deadline gives its messages back to the queue", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const clock = new ManualClock();
    const never = gate();
    const syncer = new ScriptedSyncer(undefined, (_events, call) => (call === 1 ? never.promise : undefined));
    await sendEvent(sqs, queueUrl, customerUpdated("evt_hangs"));
    await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      clock,
      config: testWorkerConfig({ groupDeadlineSeconds: 30, visibilityTimeoutSeconds: 600 }),
    });
    await waitFor(async () => syncer.calls.length === 1, 10_000, "the group to start");
    // Past the deadline on the worker's clock: the message is released at once, not after 600 s.
    await clock.advance(30_000);
    await waitFor(async () => syncer.calls.length === 2, 10_000, "the message to come back");
    expect(syncer.calls[1]?.redeliveredIds).to.deep.equal(["evt_hangs"]);
    never.open();
  });

  it("the heartbeat stops extending a message held past the hold bound", async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq();
    const clock = new ManualClock();
    const never = gate();
    const metrics = testMetrics();
    const syncer = new ScriptedSyncer(undefined, () => never.promise);
    await sendEvent(sqs, queueUrl, customerUpdated("evt_held_long"));
    await startWorker({
      queueUrl,
      dlqUrl,
      syncer,
      clock,
      metrics,
      config: testWorkerConfig({
        visibilityTimeoutSeconds: 2,
        maxHoldSeconds: 4,
        groupDeadlineSeconds: 3600,
      }),
    });
    const receivedMessages = async () =>
      (await metrics.receiveBatchSize.get()).values.find((v) => v.metricName === "sqs_receive_batch_size_sum")
        ?.value ?? 0;
    await waitFor(async () => syncer.calls.length === 1, 10_000, "the group to start");
    // The worker's clock runs three times faster than real time: without the bound the heartbeat
    // would extend the message for as long as its group hangs.
    const ticker = setInterval(() => void clock.advance(1_000), 300);
    try {
      // It comes back on the queue: the worker receives it a second time (its group still hangs).
      await waitFor(async () => (await receivedMessages()) === 2, 15_000, "the message to come back");
      expect(clock.now() - Date.UTC(2025, 0, 1, 12)).to.be.at.least(4_000);
    } finally {
      clearInterval(ticker);
      never.open();
    }
  });
});

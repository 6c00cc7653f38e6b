import { expect } from "chai";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  PurgeQueueCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queueDepth, startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { httpGet, waitUntil } from "./support/control-plane.js";
import {
  cluster,
  externalRedisValues,
  freshNamespace,
  restricted,
  getJson,
  helm,
  helmOk,
  installableChart,
  ReplicaTimeline,
  requireCluster,
} from "./support/cluster.js";

const namespace = "scaling";
const release = "sync";
const worker = "sync-stripe-salesforce-sync-worker";
const queueName = "scaling-events";

/** Chart values for KEDA against the local SQS-compatible server, with short test timings. */
function valuesFor(sqs: SqsServer, queueUrl: string, minReplicaCount: number): Record<string, unknown> {
  return {
    config: { sqs: { queueUrl, endpointUrl: sqs.endpoint }, aws: { region: "us-east-1" } },
    secrets: {
      stripe: { existingSecret: "stripe-credentials" },
      salesforce: { existingSecret: "salesforce-credentials" },
      aws: { existingSecret: "aws-sqs" },
    },
    // Redis is not what is tested here, and kwok's pods would never connect to it.
    ...externalRedisValues,
    webhook: { replicaCount: 1 },
    keda: { enabled: true, triggerAuthentication: { type: "secret", secret: { name: "aws-sqs" } } },
    worker: {
      autoscaling: {
        enabled: true,
        minReplicaCount,
        maxReplicaCount: 4,
        queueLength: 5,
        activationQueueLength: 0,
        pollingInterval: 2,
        cooldownPeriod: 20,
        fallback: { enabled: true, failureThreshold: 2, replicas: 3, behavior: "static" },
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            policies: [{ type: "Pods", value: 4, periodSeconds: 5 }],
          },
          scaleDown: {
            stabilizationWindowSeconds: 0,
            policies: [{ type: "Percent", value: 100, periodSeconds: 5 }],
          },
        },
      },
    },
    metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
  };
}

async function send(sqs: SQSClient, queueUrl: string, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 10) {
    const n = Math.min(10, count - sent);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: `{"n":${sent + i}}` })),
      }),
    );
  }
}

describe("KEDA scaling the worker on a local SQS-compatible queue", function () {
  this.timeout(30 * 60 * 1000);
  let sqsServer: SqsServer;
  let sqs: SQSClient;
  let queueUrl: string;
  let chart: ReturnType<typeof installableChart>;
  let valuesDir: string;
  let timeline: ReplicaTimeline;
  const valuesFile = (name: string, min: number) => {
    const file = join(valuesDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(valuesFor(sqsServer, queueUrl, min)));
    return file;
  };

  before(async function () {
    requireCluster(this);
    sqsServer = await startSqsServer();
    sqs = sqsServer.client();
    ({ queueUrl } = await sqsServer.createQueue(queueName));
    chart = installableChart();
    valuesDir = mkdtempSync(join(tmpdir(), "ssc-values-"));
    await freshNamespace(namespace, restricted);
    const secrets = [
      ["stripe-credentials", { "webhook-secret": "whsec_scaling" }],
      ["salesforce-credentials", { "client-id": "id", "client-secret": "cs" }],
      // The local server takes any key; KEDA reads these through the TriggerAuthentication.
      ["aws-sqs", { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }],
    ] as const;
    for (const [name, data] of secrets) {
      cluster.plane!.kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, stringData: data }),
      );
    }
    timeline = new ReplicaTimeline(namespace, worker);
  });
  after(async () => {
    if (timeline?.samples.length) console.log(`      worker replicas over time (desired/ready): ${timeline}`);
    if (cluster.plane) helm(["uninstall", release, "-n", namespace, "--wait", "--timeout", "10m"]);
    chart?.cleanup();
    if (valuesDir) rmSync(valuesDir, { recursive: true, force: true });
    sqs?.destroy();
    await sqsServer?.stop();
  });

  it("scales to zero on an empty queue when minReplicaCount is 0 (opt-in)", async () => {
    helmOk(["install", release, chart.dir, "-n", namespace, "-f", valuesFile("zero", 0), "--timeout", "10m"]);
    await waitUntil(() => {
      const so = getJson("scaledobject", worker, namespace);
      return so.status?.conditions?.some(
        (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
      );
    }, "the ScaledObject to be Ready");
    const seconds = await timeline.waitFor(0, "empty queue");
    console.log(`      at 0 replicas ${seconds.toFixed(0)}s after install`);
    const hpa = getJson("hpa", `keda-hpa-${worker}`, namespace);
    console.log(
      `      KEDA's HPA: min ${hpa.spec.minReplicas}, max ${hpa.spec.maxReplicas}, metric ${hpa.spec.metrics[0].external.metric.name} target averageValue ${hpa.spec.metrics[0].external.target.averageValue}`,
    );
    expect(hpa.spec.maxReplicas).to.equal(4);
  });

  it("wakes the worker from 0 to 1 when messages arrive (KEDA's operator)", async () => {
    expect(timeline.sample().desired, "the worker starts at zero").to.equal(0);
    await send(sqs, queueUrl, 3);
    const seconds = await timeline.waitFor(1, "3 messages");
    console.log(`      0 -> 1 ${seconds.toFixed(0)}s after 3 messages were sent`);
  });

  it("scales from 1 to 4 on 20 messages through the HPA and KEDA's metrics API server", async function () {
    const metricsApi = cluster.plane!.externalMetrics;
    if (!metricsApi.available) {
      const hpa = getJson("hpa", `keda-hpa-${worker}`, namespace);
      console.log(`      skipped: KEDA's metrics API server is not reachable here: ${metricsApi.detail}`);
      console.log(
        `      the HPA KEDA created: ${JSON.stringify({ spec: hpa.spec, conditions: hpa.status?.conditions })}`,
      );
      this.skip();
    }
    expect(timeline.sample().desired, "the worker starts at one").to.equal(1);
    await send(sqs, queueUrl, 17);
    expect((await queueDepth(sqs, queueUrl)).visible).to.equal(20);
    const seconds = await timeline.waitFor(4, "20 messages, 5 per replica");
    console.log(`      1 -> 4 ${seconds.toFixed(0)}s after the queue reached 20 messages`);
  });

  it("goes back to zero after the cooldown once the queue is empty", async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    await waitUntil(async () => (await queueDepth(sqs, queueUrl)).visible === 0, "the queue to be empty");
    const seconds = await timeline.waitFor(0, "empty queue, cooldown 20s");
    console.log(`      back to 0 ${seconds.toFixed(0)}s after the queue was emptied`);
  });

  it("falls back to 3 replicas while the queue cannot be read (minReplicaCount 1), and counts the scaler errors", async function () {
    helmOk(["upgrade", release, chart.dir, "-n", namespace, "-f", valuesFile("one", 1), "--timeout", "10m"]);
    await timeline.waitFor(1, "minReplicaCount 1");
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    const metricsApi = cluster.plane!.externalMetrics;
    const errorSeries = `keda_scaled_object_errors_total{namespace="${namespace}",scaledObject="${worker}"}`;
    const scrapeErrors = async () => {
      const body = (await httpGet(cluster.plane!.kedaMetricsUrl)).body;
      const line = body.split("\n").find((l) => l.startsWith(errorSeries));
      return line ? Number(line.split(" ").pop()) : undefined;
    };
    await waitUntil(async () => ((await scrapeErrors()) ?? 0) > 0, `${errorSeries} above 0`);
    console.log(`      KEDA's operator exports ${errorSeries} ${await scrapeErrors()}`);
    if (!metricsApi.available) {
      console.log(
        `      fallback not observable: it is applied through KEDA's metrics API server, not reachable here: ${metricsApi.detail}`,
      );
      this.skip();
    }
    const seconds = await timeline.waitFor(3, "queue deleted, fallback.replicas 3");
    const so = getJson("scaledobject", worker, namespace);
    const fallback = so.status.conditions.find((c: { type: string }) => c.type === "Fallback");
    console.log(
      `      1 -> 3 ${seconds.toFixed(0)}s after the queue was deleted; Fallback condition ${fallback?.status} (${fallback?.reason})`,
    );
    expect(fallback?.status).to.equal("True");
    expect(so.status.health).to.be.an("object");
  });

  it("returns to the minimum once the queue can be read again", async function () {
    if (!cluster.plane!.externalMetrics.available) this.skip();
    await sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const seconds = await timeline.waitFor(1, "queue readable and empty");
    console.log(`      3 -> 1 ${seconds.toFixed(0)}s after the queue came back`);
  });
});

import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { K8sObject } from "../chart/support/helm.js";
import { waitUntil } from "./support/control-plane.js";
import {
  cluster,
  externalRedisValues,
  freshNamespace,
  restricted,
  getJson,
  helmOk,
  installableChart,
  listJson,
  providePersistentVolume,
  requireCluster,
} from "./support/cluster.js";

const namespace = "lifecycle";
const release = "sync";
const fullname = "sync-stripe-salesforce-sync";

/** The release's values: the chart's own development Secret, so a secret change is a values change. */
function valuesFor(webhookSecret: string, withRedis: boolean): Record<string, unknown> {
  return {
    // Nothing is contacted: kwok's pods run no containers.
    config: {
      sqs: { queueUrl: "http://127.0.0.1:9/000000000000/lifecycle" },
      aws: { region: "us-east-1" },
      salesforce: { loginUrl: "http://127.0.0.1:9" },
    },
    keda: { enabled: false },
    worker: { replicaCount: 2, autoscaling: { enabled: false }, podDisruptionBudget: { enabled: true } },
    webhook: { replicaCount: 2 },
    secrets: {
      create: true,
      values: { stripeWebhookSecret: webhookSecret, salesforceClientId: "id", salesforceClientSecret: "cs" },
    },
    metrics: {
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true },
      dashboard: { enabled: true },
    },
    networkPolicy: { enabled: true },
    ...(withRedis ? {} : externalRedisValues),
  };
}

/** The ReplicaSet of a Deployment that holds its replicas now, by pod-template-hash. */
function activeTemplateHash(deployment: string): string {
  const sets = listJson("replicaset", namespace, `app.kubernetes.io/instance=${release}`).filter((rs) =>
    rs.metadata.name.startsWith(`${deployment}-`),
  );
  const active = sets.filter((rs) => Number(rs.spec.replicas) > 0);
  if (active.length !== 1) throw new Error(`${deployment}: ${active.length} ReplicaSets with replicas`);
  return active[0]!.metadata.labels!["pod-template-hash"]!;
}

/** Every Deployment of the release rolled out: updated, available and no old pods left. */
function rolledOut(): boolean {
  return listJson("deployment", namespace, `app.kubernetes.io/instance=${release}`).every(
    (d) =>
      d.status?.observedGeneration === (d.metadata as { generation?: number }).generation &&
      d.status?.updatedReplicas === d.spec.replicas &&
      d.status?.availableReplicas === d.spec.replicas &&
      (d.status?.replicas ?? 0) === d.spec.replicas,
  );
}

const redisPassword = () =>
  Buffer.from(getJson("secret", "sync-redis", namespace).data["redis-password"], "base64").toString();

describe("the chart's lifecycle on a real API server: install, upgrade, rollback, uninstall", function () {
  this.timeout(30 * 60 * 1000);
  let chart: ReturnType<typeof installableChart>;
  let valuesDir: string;
  const first: { webhookHash?: string; workerHash?: string; password?: string; checksum?: string } = {};
  const values = (name: string, secret: string) => {
    const file = join(valuesDir, `${name}.json`);
    writeFileSync(file, JSON.stringify(valuesFor(secret, chart.withRedis)));
    return file;
  };

  before(async function () {
    requireCluster(this);
    chart = installableChart();
    valuesDir = mkdtempSync(join(tmpdir(), "ssc-values-"));
    await freshNamespace(namespace, restricted);
    providePersistentVolume("lifecycle-redis");
  });
  after(() => {
    chart?.cleanup();
    if (valuesDir) rmSync(valuesDir, { recursive: true, force: true });
  });

  it("installs: both Deployments (and the real Bitnami Redis, when here) become ready, every object accepted", async () => {
    const start = Date.now();
    helmOk([
      "install",
      release,
      chart.dir,
      "-n",
      namespace,
      "-f",
      values("first", "whsec_first"),
      "--wait",
      "--timeout",
      "10m",
    ]);
    console.log(`      helm install --wait: ${((Date.now() - start) / 1000).toFixed(0)}s`);
    const kinds = helmOk(["get", "manifest", release, "-n", namespace])
      .split("\n")
      .filter((l) => l.startsWith("kind: "))
      .map((l) => l.slice(6));
    console.log(`      applied: ${[...new Set(kinds)].sort().join(", ")}`);
    expect(kinds).to.include.members([
      "Deployment",
      "PrometheusRule",
      "ServiceMonitor",
      "PodDisruptionBudget",
    ]);
    for (const name of [`${fullname}-webhook`, `${fullname}-worker`]) {
      expect(getJson("deployment", name, namespace).status.availableReplicas, name).to.equal(2);
    }
    if (chart.withRedis) {
      const redis = getJson("statefulset", "sync-redis-master", namespace);
      expect(redis.status.readyReplicas).to.equal(1);
      expect(getJson("pvc", "redis-data-sync-redis-master-0", namespace).status.phase).to.equal("Bound");
      first.password = redisPassword();
    } else {
      console.log("      (no Bitnami chart here: installed with externalRedis, Redis checks skipped)");
    }
    first.webhookHash = activeTemplateHash(`${fullname}-webhook`);
    first.workerHash = activeTemplateHash(`${fullname}-worker`);
    first.checksum = getJson(
      "deployment",
      `${fullname}-webhook`,
      namespace,
    ).spec.template.metadata.annotations["checksum/dev-secrets"];
  });

  it("upgrades with a changed secret value: both Deployments roll and the generated Redis password survives", async () => {
    helmOk([
      "upgrade",
      release,
      chart.dir,
      "-n",
      namespace,
      "-f",
      values("second", "whsec_second"),
      "--wait",
      "--timeout",
      "10m",
    ]);
    const seconds = await waitUntil(rolledOut, "the upgrade to roll out");
    expect(activeTemplateHash(`${fullname}-webhook`)).to.not.equal(first.webhookHash);
    expect(activeTemplateHash(`${fullname}-worker`)).to.not.equal(first.workerHash);
    const secret = getJson("secret", `${fullname}-dev-secrets`, namespace);
    expect(Buffer.from(secret.data["webhook-secret"], "base64").toString()).to.equal("whsec_second");
    console.log(`      pods rolled to new ReplicaSets (${seconds.toFixed(0)}s after helm returned)`);
    if (chart.withRedis) expect(redisPassword()).to.equal(first.password);
  });

  it("rolls back to the first revision: the first pod templates hold the replicas again", async () => {
    helmOk(["rollback", release, "1", "-n", namespace, "--wait", "--timeout", "10m"]);
    await waitUntil(rolledOut, "the rollback to roll out");
    expect(activeTemplateHash(`${fullname}-webhook`)).to.equal(first.webhookHash);
    expect(activeTemplateHash(`${fullname}-worker`)).to.equal(first.workerHash);
    expect(
      getJson("deployment", `${fullname}-webhook`, namespace).spec.template.metadata.annotations[
        "checksum/dev-secrets"
      ],
    ).to.equal(first.checksum);
    if (chart.withRedis) expect(redisPassword()).to.equal(first.password);
    const history = helmOk(["history", release, "-n", namespace, "-o", "json"]);
    expect((JSON.parse(history) as unknown[]).length).to.equal(3);
  });

  it("uninstalls and leaves nothing behind in the namespace (the Redis volume claim included)", async () => {
    helmOk(["uninstall", release, "-n", namespace, "--wait", "--timeout", "10m"]);
    const plane = cluster.plane!;
    const types = plane
      .kubectl(["api-resources", "--verbs=list", "--namespaced", "-o", "name"])
      .split("\n")
      .filter((t) => t && !/^events(\.events\.k8s\.io)?$/.test(t));
    const leftovers = () =>
      (
        JSON.parse(plane.kubectl(["get", types.join(","), "-n", namespace, "-o", "json"])) as {
          items: K8sObject[];
        }
      ).items
        .map((o) => `${o.kind}/${o.metadata.name}`)
        // What every namespace has, made by Kubernetes itself.
        .filter((n) => !["ConfigMap/kube-root-ca.crt", "ServiceAccount/default"].includes(n));
    let left: string[] = [];
    const seconds = await waitUntil(() => {
      left = leftovers();
      return left.length === 0;
    }, "the namespace to empty").catch((error: Error) => {
      throw new Error(`${error.message}; left behind: ${left.join(", ")}`);
    });
    console.log(`      namespace empty ${seconds.toFixed(0)}s after helm uninstall returned`);
  });
});

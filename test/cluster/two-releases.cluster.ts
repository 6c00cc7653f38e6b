import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { envValue } from "../chart/support/helm.js";
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

const namespace = "shared";

describe("two releases side by side in one namespace", function () {
  this.timeout(30 * 60 * 1000);
  let chart: ReturnType<typeof installableChart>;
  let valuesFile: string;
  let valuesDir: string;

  before(async function () {
    requireCluster(this);
    chart = installableChart();
    await freshNamespace(namespace, restricted);
    // Existing Secrets, as in production.
    for (const [name, data] of [
      ["stripe-credentials", { "webhook-secret": "whsec_shared" }],
      ["salesforce-credentials", { "client-id": "id", "client-secret": "cs" }],
    ] as const) {
      cluster.plane!.kubectl(
        ["apply", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, stringData: data }),
      );
    }
    valuesDir = mkdtempSync(join(tmpdir(), "ssc-values-"));
    valuesFile = join(valuesDir, "values.json");
    writeFileSync(
      valuesFile,
      JSON.stringify({
        config: { sqs: { queueUrl: "http://127.0.0.1:9/000000000000/shared" }, aws: { region: "us-east-1" } },
        secrets: {
          stripe: { existingSecret: "stripe-credentials" },
          salesforce: { existingSecret: "salesforce-credentials" },
        },
        keda: { enabled: false },
        worker: { autoscaling: { enabled: false } },
        metrics: {
          serviceMonitor: { enabled: true },
          prometheusRule: { enabled: true },
          dashboard: { enabled: true },
        },
        networkPolicy: { enabled: true },
        ...(chart.withRedis ? {} : externalRedisValues),
      }),
    );
    providePersistentVolume("shared-redis-alpha");
    providePersistentVolume("shared-redis-beta");
  });
  after(() => {
    chart?.cleanup();
    if (valuesDir) rmSync(valuesDir, { recursive: true, force: true });
  });

  it("installs a second release next to the first, each with its own Redis, without a shared name", async () => {
    for (const release of ["alpha", "beta"]) {
      helmOk([
        "install",
        release,
        chart.dir,
        "-n",
        namespace,
        "-f",
        valuesFile,
        "--wait",
        "--timeout",
        "10m",
      ]);
    }
    const owned = (release: string) =>
      helmOk(["get", "manifest", release, "-n", namespace])
        .split("\n---")
        .map((doc) => `${/^kind: (.+)$/m.exec(doc)?.[1]}/${/^ {2}name: (.+)$/m.exec(doc)?.[1]}`)
        .filter((n) => !n.includes("undefined"));
    const alpha = owned("alpha");
    const beta = owned("beta");
    expect(alpha.length).to.be.greaterThan(8);
    expect(alpha.filter((n) => beta.includes(n))).to.deep.equal([]);
    for (const release of ["alpha", "beta"]) {
      // Both releases ready at once (helm --wait saw each one ready as it was installed).
      await waitUntil(
        () =>
          getJson("deployment", `${release}-stripe-salesforce-sync-worker`, namespace).status
            .availableReplicas === 1,
        `${release}'s worker to be available`,
      );
      const worker = getJson("deployment", `${release}-stripe-salesforce-sync-worker`, namespace);
      const url = envValue(worker.spec.template.spec.containers[0], "REDIS_URL")!;
      if (chart.withRedis) {
        expect(url).to.equal(`redis://${release}-redis-master.${namespace}.svc.cluster.local:6379/0`);
        expect(getJson("service", `${release}-redis-master`, namespace).metadata.name).to.equal(
          `${release}-redis-master`,
        );
        await waitUntil(
          () => getJson("statefulset", `${release}-redis-master`, namespace).status.readyReplicas === 1,
          `${release}'s Redis to be ready`,
        );
      }
    }
    console.log(`      alpha and beta: ${alpha.length} and ${beta.length} objects, none shared`);
  });

  it("uninstalls one release without touching the other", () => {
    helmOk(["uninstall", "alpha", "-n", namespace, "--wait", "--timeout", "10m"]);
    expect(listJson("deployment", namespace, "app.kubernetes.io/instance=alpha")).to.deep.equal([]);
    expect(listJson("deployment", namespace, "app.kubernetes.io/instance=beta")).to.have.length(2);
    helmOk(["uninstall", "beta", "-n", namespace, "--wait", "--timeout", "10m"]);
  });
});

import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { ciValuesDir, parseManifests, type K8sObject } from "../chart/support/helm.js";
import {
  cluster,
  freshNamespace,
  helmOk,
  installableChart,
  requireCluster,
  restricted,
} from "./support/cluster.js";

const namespace = "restricted";
const scenarios = readdirSync(ciValuesDir)
  .filter((file) => file.endsWith("-values.yaml"))
  .sort();

describe("every ci/*-values.yaml applied with --dry-run=server in a PodSecurity restricted namespace", function () {
  this.timeout(10 * 60 * 1000);
  let chart: ReturnType<typeof installableChart>;

  before(async function () {
    requireCluster(this);
    chart = installableChart();
    if (!chart.withRedis) console.log("      (no Bitnami chart here: rendered without the Redis subchart)");
    await freshNamespace(namespace, restricted);
  });
  after(() => chart?.cleanup());

  for (const scenario of scenarios) {
    it(`${scenario}: accepted with strict field validation, its pods admitted under restricted`, () => {
      const plane = cluster.plane!;
      const rendered = helmOk([
        "template",
        "sync",
        chart.dir,
        "--namespace",
        namespace,
        "--kube-version",
        "1.34.2",
        "--values",
        join(ciValuesDir, scenario),
      ]);
      const objects = parseManifests(rendered);
      const apply = plane.tryKubectl(
        ["apply", "--dry-run=server", "--validate=strict", "-n", namespace, "-f", "-"],
        rendered,
      );
      expect(apply.status, apply.stderr).to.equal(0);
      // PodSecurity only warns for workloads; any warning is a violation here.
      expect(apply.stderr, "warnings").to.not.match(/Warning/);
      // Pods are where `enforce` applies: each workload's pod template, submitted as a Pod. Read as
      // YAML 1.1, as Kubernetes does (file modes such as 0755 are octal there).
      const pods = parseAllDocuments(rendered, { version: "1.1" })
        .map((doc) => doc.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null && ["Deployment", "StatefulSet"].includes(o.kind))
        .map((o) => ({
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            name: `${o.metadata.name}-probe`.slice(0, 63),
            namespace,
            labels: o.spec.template.metadata.labels,
          },
          // The chart's ServiceAccounts exist only in the dry run above; the admission of a Pod
          // needs one that exists, and PodSecurity does not look at it.
          spec: {
            ...o.spec.template.spec,
            serviceAccountName: "default",
            // A StatefulSet's pods get a volume per claim template; so does the probe.
            volumes: [
              ...(o.spec.template.spec.volumes ?? []),
              ...(o.spec.volumeClaimTemplates ?? []).map((t: K8sObject) => ({
                name: t.metadata.name,
                persistentVolumeClaim: { claimName: `${t.metadata.name}-probe` },
              })),
            ],
          },
        }));
      const admitted = plane.tryKubectl(
        ["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: pods }),
      );
      expect(admitted.status, admitted.stderr).to.equal(0);
      console.log(`        ${objects.length} objects, ${pods.length} pod templates admitted`);
    });
  }
});

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  copyChartWithRedis,
  copyChartWithoutDependencies,
  noRedisChartReason,
  repoRoot,
  vendoredRedisChart,
  type K8sObject,
} from "../../chart/support/helm.js";
import { startControlPlane, waitUntil, type ControlPlane } from "./control-plane.js";
import { findClusterTools } from "./tools.js";

/** The control plane shared by every cluster suite (started once, by the root hooks below). */
export const cluster: {
  plane?: ControlPlane;
  helm?: string;
  skipReason?: string;
  /** The Bitnami Redis chart to install as the real subchart, when it is here. */
  redisChart?: string;
} = {};

/** Prints what is skipped and why, then skips the suite: a plain clone says so and does not fail. */
export function requireCluster(context: Mocha.Context): ControlPlane {
  if (!cluster.plane) {
    console.log(
      `      skipped: ${cluster.skipReason ?? "no control plane was started: run the cluster suites with npm run test:cluster"}`,
    );
    context.skip();
  }
  return cluster.plane!;
}

/** Runs helm against the control plane. */
export function helm(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(cluster.helm!, args, {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: cluster.plane!.kubeconfig },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Same, failing with helm's message and what the namespace holds then. */
export function helmOk(args: string[]): string {
  const result = helm(args);
  if (result.status !== 0) {
    const namespace = args[args.indexOf("-n") + 1];
    const state = namespace
      ? cluster.plane!.tryKubectl(["get", "deploy,rs,sts,pods,pvc", "-n", namespace, "-o", "wide"]).stdout
      : "";
    throw new Error(`helm ${args.join(" ")} failed:\n${result.stderr}\n${state}`);
  }
  return result.stdout;
}

/** One object as JSON. */
export function getJson<T = K8sObject>(kind: string, name: string, namespace?: string): T {
  const args = ["get", kind, name, "-o", "json", ...(namespace ? ["-n", namespace] : [])];
  return JSON.parse(cluster.plane!.kubectl(args)) as T;
}

/** Objects of a kind in a namespace, optionally by label selector. */
export function listJson(kind: string, namespace: string, selector?: string): K8sObject[] {
  const args = ["get", kind, "-n", namespace, "-o", "json", ...(selector ? ["-l", selector] : [])];
  return (JSON.parse(cluster.plane!.kubectl(args)) as { items: K8sObject[] }).items;
}

/** Labels of a namespace whose pods must meet PodSecurity `restricted` (enforced, warned and audited). */
export const restricted = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
};

/** Creates a namespace (labelled as given), deleting a leftover one of the same name first. */
export async function freshNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  const plane = cluster.plane!;
  if (plane.tryKubectl(["get", "namespace", name]).status === 0) {
    plane.kubectl(["delete", "namespace", name, "--wait=false"]);
    await waitUntil(
      () => plane.tryKubectl(["get", "namespace", name]).status !== 0,
      `namespace ${name} to go`,
    );
  }
  plane.kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } }),
  );
}

/** Pre-creates a PersistentVolume for one Redis volume claim (there is no provisioner on kwok's nodes). */
export function providePersistentVolume(name: string, size = "8Gi"): void {
  cluster.plane!.kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name, labels: { "stripe-salesforce-sync-test": "true" } },
      spec: {
        capacity: { storage: size },
        accessModes: ["ReadWriteOnce"],
        persistentVolumeReclaimPolicy: "Retain",
        // Never mounted: kwok's nodes run no containers.
        hostPath: { path: `/tmp/ssc-never-mounted/${name}` },
      },
    }),
  );
}

/** Replica counts of a Deployment over time, for the suite's output. */
export class ReplicaTimeline {
  private readonly start = Date.now();
  readonly samples: { at: number; desired: number; ready: number }[] = [];
  constructor(
    private readonly namespace: string,
    private readonly deployment: string,
  ) {}

  /** Reads the Deployment now; records a sample when the counts changed. */
  sample(): { desired: number; ready: number } {
    const d = getJson("deployment", this.deployment, this.namespace);
    const now = { desired: Number(d.spec.replicas ?? 0), ready: Number(d.status?.readyReplicas ?? 0) };
    const last = this.samples[this.samples.length - 1];
    if (!last || last.desired !== now.desired || last.ready !== now.ready) {
      this.samples.push({ at: (Date.now() - this.start) / 1000, ...now });
    }
    return now;
  }

  /** Waits until the Deployment's desired and ready replicas both equal `replicas`. */
  async waitFor(replicas: number, what: string, timeoutMs = 600_000): Promise<number> {
    return waitUntil(
      () => {
        const now = this.sample();
        return now.desired === replicas && now.ready === replicas;
      },
      `${this.deployment} at ${replicas} replicas (${what})`,
      timeoutMs,
      1000,
    );
  }

  /** "t=0s 1/1, t=12s 3/1, ..." (desired/ready). */
  toString(): string {
    return this.samples.map((s) => `t=${s.at.toFixed(0)}s ${s.desired}/${s.ready}`).join(", ");
  }
}

// Root hooks (this file is loaded with mocha's --file): one control plane for every cluster suite.
before(async function () {
  // A cold start of the control plane on two busy cores takes a minute or two.
  this.timeout(15 * 60 * 1000);
  const { tools, missing } = findClusterTools();
  const helmPath = join(repoRoot, ".tmp", "bin", "helm");
  if (!tools) {
    cluster.skipReason = `cluster tools missing (${missing.join(", ")}): run scripts/install-cluster-tools.sh`;
    return;
  }
  if (!existsSync(helmPath)) {
    cluster.skipReason = "helm missing from .tmp/bin: run scripts/install-chart-tools.sh";
    return;
  }
  cluster.helm = helmPath;
  cluster.redisChart = vendoredRedisChart();
  if (!cluster.redisChart)
    console.log(`  note: ${noRedisChartReason}; the suites install with externalRedis instead`);
  const start = Date.now();
  cluster.plane = await startControlPlane(tools);
  console.log(
    `  control plane up in ${((Date.now() - start) / 1000).toFixed(0)}s (${cluster.plane.timings
      .map(([what, s]) => `${what} ${s.toFixed(0)}s`)
      .join(", ")})`,
  );
  console.log(
    `  external metrics API: ${cluster.plane.externalMetrics.available ? "available" : "NOT available"}: ${cluster.plane.externalMetrics.detail}`,
  );
});

after(async function () {
  this.timeout(60_000);
  await cluster.plane?.stop();
});

/**
 * A copy of the chart to install: with the real Bitnami Redis chart under charts/ when it is here,
 * else without the dependency (the release then uses externalRedis, and says so).
 */
export function installableChart(): { dir: string; withRedis: boolean; cleanup: () => void } {
  if (cluster.redisChart) return { ...copyChartWithRedis(cluster.redisChart), withRedis: true };
  return { ...copyChartWithoutDependencies(), withRedis: false };
}

/** Values that replace the bundled Redis when the Bitnami chart is not here (nothing connects to it). */
export const externalRedisValues = {
  redis: { enabled: false },
  externalRedis: { url: "redis://127.0.0.1:6379/0" },
};

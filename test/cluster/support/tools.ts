import { existsSync, readFileSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../chart/support/helm.js";

/** Versions the cluster suite runs, from scripts/cluster-tools.env (shared with the install script). */
export const versions: Record<string, string> = Object.fromEntries(
  readFileSync(join(repoRoot, "scripts", "cluster-tools.env"), "utf8")
    .split("\n")
    .map((line) => /^([A-Z0-9_]+)=(\S+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

/** Where scripts/install-cluster-tools.sh caches the tools, keyed by version. */
export const cacheDir = process.env.STRIPE_SYNC_CACHE ?? join(homedir(), ".cache", "stripe-salesforce-sync");

/** Paths of every binary and manifest the control plane needs. */
export interface ClusterTools {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  kwokStages: string[];
  kedaOperator: string;
  kedaAdapter: string;
  crds: string[];
}

/** The cached tools, or what is missing (the suite then says so and skips). */
export function findClusterTools(): { tools?: ClusterTools; missing: string[] } {
  const k8s = join(cacheDir, `k8s-${versions.K8S_VERSION}`);
  const kwok = join(cacheDir, `kwok-${versions.KWOK_VERSION}`);
  const keda = join(cacheDir, `keda-${versions.KEDA_VERSION}`);
  const promOperator = join(cacheDir, `prometheus-operator-${versions.PROMETHEUS_OPERATOR_VERSION}`);
  const missing: string[] = [];
  const etcd = ["/usr/bin/etcd", "/usr/local/bin/etcd"].find((p) => existsSync(p));
  if (!etcd) missing.push("etcd (Debian package etcd-server)");
  for (const dir of [k8s, kwok, keda, join(keda, "crds"), promOperator]) {
    if (!existsSync(join(dir, ".complete"))) missing.push(dir);
  }
  if (missing.length > 0) return { missing };
  const yamls = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => join(dir, f));
  return {
    missing,
    tools: {
      etcd: etcd!,
      kubeApiserver: join(k8s, "kube-apiserver"),
      kubeControllerManager: join(k8s, "kube-controller-manager"),
      kubeScheduler: join(k8s, "kube-scheduler"),
      kubectl: join(k8s, "kubectl"),
      kwok: join(kwok, "kwok"),
      kwokStages: yamls(join(kwok, "stages")),
      kedaOperator: join(keda, "keda-operator"),
      kedaAdapter: join(keda, "keda-adapter"),
      crds: [...yamls(join(keda, "crds")), ...yamls(join(promOperator, "crds"))],
    },
  };
}

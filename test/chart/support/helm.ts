import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml } from "yaml";

/** Repository root (two levels above test/chart/support). */
export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
/** The chart as users install it. */
export const chartDir = join(repoRoot, "charts", "stripe-salesforce-sync");
/** Values files rendered by every scenario check. */
export const ciValuesDir = join(chartDir, "ci");
/** Kubernetes version passed to `helm template`/`helm lint` (a source-built helm defaults to an old one). */
export const kubeVersion = "1.31.0";
/** Release name and namespace the scenarios render with. */
export const release = { name: "sync", namespace: "payments" };

/** One rendered Kubernetes object. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  // Tests read deep into specs; the schemas check their shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

/** Result of a helm command that may fail. */
export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Finds a chart tool in .tmp/bin or on PATH, running scripts/install-chart-tools.sh once when missing. */
function ensureChartTool(name: "helm" | "promtool"): string {
  const local = join(repoRoot, ".tmp", "bin", name);
  if (existsSync(local)) return local;
  const onPath = findOnPath(name);
  if (onPath) return onPath;
  execFileSync(join(repoRoot, "scripts", "install-chart-tools.sh"), { stdio: "inherit", cwd: repoRoot });
  if (existsSync(local)) return local;
  throw new Error(
    `${name} not found in .tmp/bin or on PATH, and scripts/install-chart-tools.sh did not install it`,
  );
}

/** Finds helm in .tmp/bin or on PATH, running scripts/install-chart-tools.sh once when missing. */
export function ensureHelm(): string {
  return ensureChartTool("helm");
}

/**
 * Finds promtool in .tmp/bin or on PATH, running scripts/install-chart-tools.sh once when missing;
 * undefined when STRIPE_SYNC_PROMTOOL=later and it is not built yet (.ci/run builds it in the
 * background during `npm test` and runs these checks afterwards).
 */
export function ensurePromtool(): string | undefined {
  if (process.env.STRIPE_SYNC_PROMTOOL === "later") {
    const local = join(repoRoot, ".tmp", "bin", "promtool");
    return existsSync(local) ? local : findOnPath("promtool");
  }
  return ensureChartTool("promtool");
}

/**
 * Copies the chart to a temporary directory without its `dependencies:` (the Bitnami Redis chart
 * lives in an OCI registry these checks cannot reach). The Redis wiring is still checked through
 * its naming convention (`<redis.fullnameOverride>-master`).
 */
export function copyChartWithoutDependencies(): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "ssc-chart-"));
  const dir = join(root, "stripe-salesforce-sync");
  cpSync(chartDir, dir, { recursive: true, filter: (src) => !src.startsWith(join(chartDir, "charts")) });
  const chartYamlPath = join(dir, "Chart.yaml");
  const chartYaml = parseYaml(readFileSync(chartYamlPath, "utf8")) as Record<string, unknown>;
  if (!Array.isArray(chartYaml.dependencies) || chartYaml.dependencies.length === 0) {
    throw new Error("Chart.yaml declares no dependencies: the Redis dependency is missing");
  }
  delete chartYaml.dependencies;
  writeFileSync(chartYamlPath, JSON.stringify(chartYaml, null, 2));
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Mocha hooks for a suite that renders the chart: finds (or builds) helm and copies the chart
 * without its dependency before the suite, removes the copy after. The fields are set in `before`.
 */
export function useRenderableChart(): { helm: string; dir: string } {
  const chart = { helm: "", dir: "" };
  let cleanup: (() => void) | undefined;
  before(function () {
    // Building helm from source on a cold machine takes minutes.
    this.timeout(15 * 60 * 1000);
    chart.helm = ensureHelm();
    const copy = copyChartWithoutDependencies();
    chart.dir = copy.dir;
    cleanup = copy.cleanup;
  });
  after(() => cleanup?.());
  return chart;
}

/** Runs helm (or another tool) and returns its status and output without throwing. */
export function runHelm(helm: string, args: string[], cwd = repoRoot): HelmResult {
  const result = spawnSync(helm, args, { encoding: "utf8", cwd, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Values overrides by dotted path; each value is passed as JSON (`--set-json`), so arrays and objects work. */
export type Overrides = Record<string, unknown>;

/** Flattens overrides into helm arguments. */
function setArgs(set: Overrides): string[] {
  return Object.entries(set).flatMap(([key, value]) => ["--set-json", `${key}=${JSON.stringify(value)}`]);
}

/** Runs `helm template` with the given values files and `--set-json` overrides. */
export function template(
  helm: string,
  chart: string,
  valuesFiles: string[],
  set: Overrides = {},
  target: { name: string; namespace: string } = release,
): HelmResult {
  return runHelm(helm, [
    "template",
    target.name,
    chart,
    "--namespace",
    target.namespace,
    "--kube-version",
    kubeVersion,
    ...valuesFiles.flatMap((file) => ["--values", file]),
    ...setArgs(set),
  ]);
}

/** Renders and parses; throws with helm's message when rendering fails. */
export function render(
  helm: string,
  chart: string,
  valuesFiles: string[],
  set: Overrides = {},
  target: { name: string; namespace: string } = release,
): K8sObject[] {
  const result = template(helm, chart, valuesFiles, set, target);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseManifests(result.stdout);
}

/** Parses a multi-document YAML stream into objects, dropping empty documents. */
export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML rendered: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null && typeof obj === "object");
}

/** The only object of `kind` whose name ends with `suffix`; fails when there is not exactly one. */
export function findOne(objects: K8sObject[], kind: string, suffix = ""): K8sObject {
  const matches = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  if (matches.length !== 1) {
    throw new Error(
      `expected one ${kind} named *${suffix}, found ${matches.map((m) => m.metadata.name).join(", ") || "none"}`,
    );
  }
  return matches[0]!;
}

/** Value of env `name` in a container, or undefined. */
export function envValue(
  container: { env?: { name: string; value?: string }[] },
  name: string,
): string | undefined {
  return container.env?.find((e) => e.name === name)?.value;
}

/**
 * The Bitnami Redis chart `Chart.yaml` pins, unpacked: `$BITNAMI_REDIS_CHART`, or the copy vendored
 * beside the clone for machines that cannot reach its OCI registry (`../shared/vendor/charts/redis`).
 * Undefined when neither holds the pinned version.
 */
export function vendoredRedisChart(): string | undefined {
  const pinned = (
    parseYaml(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as {
      dependencies: { name: string; version: string }[];
    }
  ).dependencies.find((d) => d.name === "redis")?.version;
  // BITNAMI_REDIS_CHART, when set, is the only place looked at (set it to a missing path to see the
  // suites without the chart).
  const candidates = process.env.BITNAMI_REDIS_CHART
    ? [process.env.BITNAMI_REDIS_CHART]
    : [join(repoRoot, "..", "shared", "vendor", "charts", "redis")];
  for (const dir of candidates) {
    if (!existsSync(join(dir, "Chart.yaml"))) continue;
    const version = (parseYaml(readFileSync(join(dir, "Chart.yaml"), "utf8")) as { version: string }).version;
    if (version === pinned) return dir;
  }
  return undefined;
}

/** Why the suites that need the real Bitnami subchart are skipped. */
export const noRedisChartReason =
  "the Bitnami Redis chart 21.2.11 is not here: set BITNAMI_REDIS_CHART to an unpacked copy " +
  "(helm pull oci://registry-1.docker.io/bitnamicharts/redis --version 21.2.11 --untar) or vendor it under ../shared/vendor/charts/redis";

/** Copies the chart with the real Bitnami Redis chart under its `charts/`, as `helm dependency build` would leave it. */
export function copyChartWithRedis(redisChart: string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "ssc-chart-redis-"));
  const dir = join(root, "stripe-salesforce-sync");
  cpSync(chartDir, dir, { recursive: true, filter: (src) => !src.startsWith(join(chartDir, "charts")) });
  cpSync(redisChart, join(dir, "charts", "redis"), { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Skips a promtool check, saying why (promtool is still being built in the background by .ci/run). */
export function skipWithoutPromtool(test: Mocha.Context): void {
  console.log(
    "      skipped: promtool is not built yet (STRIPE_SYNC_PROMTOOL=later); .ci/run runs this check after npm test",
  );
  test.skip();
}

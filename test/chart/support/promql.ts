import { createMetrics } from "../../../src/shared/metrics.js";

/**
 * Series that come from outside the app, by prefix, with where they come from: the queue's depth
 * and age are CloudWatch metrics (Prometheus CloudWatch exporter or YACE), scaler errors and the
 * queue length KEDA reads come from KEDA's operator, `up` from Prometheus itself.
 */
export const externalMetricSources: { pattern: RegExp; source: string }[] = [
  { pattern: /^aws_sqs_/, source: "CloudWatch exporter (AWS/SQS)" },
  { pattern: /^keda_/, source: "KEDA operator" },
  { pattern: /^up$/, source: "Prometheus scrape" },
];

const keywords = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"]);

/**
 * Metric names a PromQL expression selects. Strings, label matchers, ranges and grouping clauses are
 * removed first; what is left that is not a function call or a keyword is a metric name.
 */
export function metricNames(expr: string): string[] {
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{[^}]*\}/g, " ").replace(/\[[^\]]*\]/g, " ");
  rest = rest.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = rest.slice(match.index + match[0].length);
    if (/^\s*\(/.test(after) || keywords.has(match[0])) continue;
    // Exponents of numbers (1e3) are not names.
    if (/[0-9.]$/.test(rest.slice(0, match.index))) continue;
    names.add(match[0]);
  }
  return [...names].sort();
}

/**
 * Every series name the app exposes, read from its own metrics registry (src/shared/metrics.ts,
 * with prom-client's default process metrics): histograms add `_bucket`, `_sum` and `_count`.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics();
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === "histogram") {
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
    } else if (type === "summary") {
      for (const suffix of ["", "_sum", "_count"]) names.add(`${metric.name}${suffix}`);
    } else {
      names.add(metric.name);
    }
  }
  return names;
}

/** Names that are neither exported by the app nor from a known outside source. */
export function unknownMetricNames(names: string[], exported: Set<string>): string[] {
  return names.filter(
    (name) => !exported.has(name) && !externalMetricSources.some(({ pattern }) => pattern.test(name)),
  );
}

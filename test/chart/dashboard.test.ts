import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import {
  ciValuesDir,
  ensurePromtool,
  findOne,
  render,
  runHelm,
  skipWithoutPromtool,
  useRenderableChart,
} from "./support/helm.js";
import { exportedMetricNames, metricNames, unknownMetricNames } from "./support/promql.js";

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: { refId: string; expr: string }[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}

const kedaOn = join(ciValuesDir, "keda-on-values.yaml");

/** The dashboard JSON the chart renders for a release. */
function dashboardOf(objects: ReturnType<typeof render>): {
  labels: Record<string, string>;
  dashboard: Dashboard;
} {
  const configMap = findOne(objects, "ConfigMap", "-dashboard");
  const files = Object.values<string>(configMap.data);
  expect(files).to.have.length(1);
  return { labels: configMap.metadata.labels ?? {}, dashboard: JSON.parse(files[0]!) as Dashboard };
}

/** A panel query with Grafana's variables replaced by what they stand for. */
function asPromQL(expr: string, dashboard: Dashboard): string {
  let out = expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "5m");
  for (const variable of dashboard.templating.list) {
    if (variable.type === "constant") out = out.replaceAll(`$${variable.name}`, variable.query);
  }
  return out;
}

describe("the Helm chart's Grafana dashboard", function () {
  const chart = useRenderableChart();
  let dashboard: Dashboard;
  let labels: Record<string, string>;
  let promtool: string | undefined;
  let workdir: string;

  before(function () {
    this.timeout(20 * 60 * 1000);
    promtool = ensurePromtool();
    ({ dashboard, labels } = dashboardOf(
      render(chart.helm, chart.dir, [kedaOn], { "metrics.dashboard.enabled": true }),
    ));
    workdir = mkdtempSync(join(tmpdir(), "ssc-dashboard-"));
  });
  after(() => rmSync(workdir, { recursive: true, force: true }));

  it('ships as a ConfigMap the Grafana sidecar picks up (grafana_dashboard: "1"), only when enabled', () => {
    expect(labels).to.include({ grafana_dashboard: "1", "app.kubernetes.io/instance": "sync" });
    const without = render(chart.helm, chart.dir, [kedaOn], { "metrics.dashboard.enabled": false });
    expect(
      without.filter((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard")),
    ).to.deep.equal([]);
  });

  it("is filled in with this release's namespace, pods, ScaledObject and queues, under a uid of its own", () => {
    const constants = Object.fromEntries(
      dashboard.templating.list.filter((v) => v.type === "constant").map((v) => [v.name, v.query]),
    );
    expect(constants).to.deep.equal({
      namespace: "payments",
      webhook_pods: "sync-stripe-salesforce-sync-webhook-.+",
      worker_pods: "sync-stripe-salesforce-sync-worker-.+",
      scaled_object: "sync-stripe-salesforce-sync-worker",
      queue: "stripe-events",
      dlq: "stripe-events-dlq",
    });
    const second = dashboardOf(
      render(
        chart.helm,
        chart.dir,
        [kedaOn],
        { "metrics.dashboard.enabled": true },
        {
          name: "second",
          namespace: "payments",
        },
      ),
    ).dashboard;
    expect(second.uid).to.not.equal(dashboard.uid);
    expect(dashboard.uid).to.match(/^[a-z0-9-]{1,40}$/);
  });

  it("has the panels operators need", () => {
    const titles = dashboard.panels.filter((p) => p.type !== "row").map((p) => p.title);
    expect(titles).to.include.members([
      "Webhooks by outcome",
      "Webhook and enqueue latency",
      "Queue depth",
      "Oldest message",
      "Sync outcomes",
      "Event lag",
      "Salesforce calls",
      "API usage against the daily limit",
      "Dead letters by reason",
      "Token requests and records per call",
      "Replicas",
    ]);
  });

  it("has only valid PromQL in its panels (promtool check rules over a rules file made from the panels)", function () {
    if (!promtool) return skipWithoutPromtool(this);
    const rules = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        record: `dashboard:panel_${panel.id}_${target.refId.toLowerCase()}`,
        expr: asPromQL(target.expr, dashboard),
      })),
    );
    expect(rules.length).to.be.greaterThan(20);
    const file = join(workdir, "dashboard-rules.yaml");
    writeFileSync(file, stringifyYaml({ groups: [{ name: "dashboard", rules }] }));
    const result = runHelm(promtool, ["check", "rules", file]);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.contain(`SUCCESS: ${rules.length} rules found`);
    // The check can fail: a broken query is refused.
    writeFileSync(
      file,
      stringifyYaml({ groups: [{ name: "dashboard", rules: [{ record: "x:y", expr: "sum(" }] }] }),
    );
    expect(runHelm(promtool, ["check", "rules", file]).status).to.not.equal(0);
  });

  it("names only metrics the app exports, CloudWatch's and KEDA's", async () => {
    const exported = await exportedMetricNames();
    const names = [
      ...new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)))),
    ];
    expect(names).to.include.members(["stripe_webhooks_total", "sync_event_lag_seconds_bucket"]);
    expect(unknownMetricNames(names, exported)).to.deep.equal([]);
    // The check can fail: a misspelt name is reported.
    expect(unknownMetricNames(metricNames("sum(rate(stripe_webhook_total[5m]))"), exported)).to.deep.equal([
      "stripe_webhook_total",
    ]);
  });
});

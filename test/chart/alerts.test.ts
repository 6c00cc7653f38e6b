import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import {
  ciValuesDir,
  ensurePromtool,
  findOne,
  render,
  repoRoot,
  runHelm,
  skipWithoutPromtool,
  type K8sObject,
  useRenderableChart,
} from "./support/helm.js";
import { exportedMetricNames, metricNames, unknownMetricNames } from "./support/promql.js";

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const kedaOn = join(ciValuesDir, "keda-on-values.yaml");
const runbookUrl = "https://github.com/example/stripe-salesforce-sync/blob/main/README.md";

const groupsOf = (objects: K8sObject[]) =>
  findOne(objects, "PrometheusRule").spec.groups as { name: string; rules: Rule[] }[];
const alertsOf = (objects: K8sObject[]) =>
  groupsOf(objects)
    .flatMap((g) => g.rules)
    .filter((r): r is Rule & { alert: string } => r.alert !== undefined);

// Series of this release's pods (release "sync" in namespace "payments") and of another release's.
const worker = 'namespace="payments", pod="sync-stripe-salesforce-sync-worker-5f6b9c7d8-x2k4p"';
const webhook = 'namespace="payments", pod="sync-stripe-salesforce-sync-webhook-7d9c8b6f5-abcde"';
const otherWorker = 'namespace="payments", pod="other-stripe-salesforce-sync-worker-5f6b9c7d8-x2k4p"';
const scaledObject = 'namespace="payments", scaledObject="sync-stripe-salesforce-sync-worker"';

interface Case {
  what: string;
  series: [string, string][];
  alert: string;
  at: string;
  fires?: Record<string, string>[];
}

/** promtool unit tests, one behaviour each: what fires, and what must not (a single failure, another release). */
const cases: Case[] = [
  {
    what: "messages wait in the dead-letter queue",
    series: [
      ['aws_sqs_approximate_number_of_messages_visible_average{queue_name="stripe-events-dlq"}', "0 0 3x20"],
    ],
    alert: "StripeSalesforceSyncDeadLetterQueueNotEmpty",
    at: "10m",
    fires: [{ severity: "warning" }],
  },
  {
    what: "the oldest message is older than 15 minutes",
    series: [
      ['aws_sqs_approximate_age_of_oldest_message_maximum{queue_name="stripe-events"}', "100 1000x20"],
    ],
    alert: "StripeSalesforceSyncOldestMessageTooOld",
    at: "10m",
    fires: [{ severity: "critical" }],
  },
  {
    what: "no CloudWatch series for the queue",
    series: [['aws_sqs_approximate_age_of_oldest_message_maximum{queue_name="another-queue"}', "0x40"]],
    alert: "StripeSalesforceSyncQueueMetricsAbsent",
    at: "35m",
    fires: [{ queue_name: "stripe-events", severity: "warning" }],
  },
  {
    what: "CloudWatch series present",
    series: [['aws_sqs_approximate_age_of_oldest_message_maximum{queue_name="stripe-events"}', "0x40"]],
    alert: "StripeSalesforceSyncQueueMetricsAbsent",
    at: "35m",
  },
  {
    what: "KEDA's scaler keeps failing for this ScaledObject",
    series: [[`keda_scaled_object_errors_total{${scaledObject}}`, "0+4x30"]],
    alert: "StripeSalesforceSyncKedaScalerErrors",
    at: "20m",
    fires: [
      { namespace: "payments", scaledObject: "sync-stripe-salesforce-sync-worker", severity: "critical" },
    ],
  },
  {
    what: "KEDA's scaler healthy, another release's failing",
    series: [
      [`keda_scaled_object_errors_total{${scaledObject}}`, "0x30"],
      ['keda_scaled_object_errors_total{namespace="payments", scaledObject="other-worker"}', "0+4x30"],
    ],
    alert: "StripeSalesforceSyncKedaScalerErrors",
    at: "20m",
  },
  {
    what: "no KEDA series for this ScaledObject",
    series: [['keda_scaled_object_errors_total{namespace="payments", scaledObject="other-worker"}', "0x30"]],
    alert: "StripeSalesforceSyncKedaMetricsAbsent",
    at: "20m",
    fires: [
      { namespace: "payments", scaledObject: "sync-stripe-salesforce-sync-worker", severity: "warning" },
    ],
  },
  {
    what: "an event dead-lettered",
    series: [[`sync_dead_letter_total{${worker}, reason="STRING_TOO_LONG"}`, "0 0 1x20"]],
    alert: "StripeSalesforceSyncDeadLettered",
    at: "10m",
    fires: [{ namespace: "payments", reason: "STRING_TOO_LONG", severity: "warning" }],
  },
  {
    what: "another release's worker dead-lettering",
    series: [[`sync_dead_letter_total{${otherWorker}, reason="STRING_TOO_LONG"}`, "0 0 1x20"]],
    alert: "StripeSalesforceSyncDeadLettered",
    at: "10m",
  },
  {
    what: "9% of Salesforce calls failing",
    series: [
      [`salesforce_api_calls_total{${worker}, operation="upsert", status="200"}`, "0+100x40"],
      [`salesforce_api_calls_total{${worker}, operation="upsert", status="500"}`, "0+10x40"],
    ],
    alert: "StripeSalesforceSyncSalesforceErrors",
    at: "30m",
    fires: [{ namespace: "payments", severity: "warning" }],
  },
  {
    what: "1% of Salesforce calls failing",
    series: [
      [`salesforce_api_calls_total{${worker}, operation="upsert", status="200"}`, "0+100x40"],
      [`salesforce_api_calls_total{${worker}, operation="upsert", status="500"}`, "0+1x40"],
    ],
    alert: "StripeSalesforceSyncSalesforceErrors",
    at: "30m",
  },
  {
    what: "token requests failing every minute, none succeeding",
    series: [[`salesforce_token_requests_total{${worker}, flow="jwt", outcome="network_error"}`, "0+1x40"]],
    alert: "StripeSalesforceSyncTokenFailures",
    at: "25m",
    fires: [{ namespace: "payments", severity: "critical" }],
  },
  {
    what: "a single token network error",
    series: [[`salesforce_token_requests_total{${worker}, flow="jwt", outcome="network_error"}`, "0 1x40"]],
    alert: "StripeSalesforceSyncTokenFailures",
    at: "25m",
  },
  {
    what: "token requests failing but also succeeding",
    series: [
      [`salesforce_token_requests_total{${worker}, flow="jwt", outcome="network_error"}`, "0+1x40"],
      [`salesforce_token_requests_total{${worker}, flow="jwt", outcome="success"}`, "0+1x40"],
    ],
    alert: "StripeSalesforceSyncTokenFailures",
    at: "25m",
  },
  {
    what: "events landing an hour late",
    series: [
      [`sync_event_lag_seconds_bucket{${worker}, le="60"}`, "0x40"],
      [`sync_event_lag_seconds_bucket{${worker}, le="900"}`, "0x40"],
      [`sync_event_lag_seconds_bucket{${worker}, le="3600"}`, "0+10x40"],
      [`sync_event_lag_seconds_bucket{${worker}, le="+Inf"}`, "0+10x40"],
    ],
    alert: "StripeSalesforceSyncEventLagHigh",
    at: "30m",
    fires: [{ namespace: "payments", severity: "warning" }],
  },
  {
    what: "95% of the daily API limit used",
    series: [
      [`salesforce_api_usage{${worker}, kind="used"}`, "95000x30"],
      [`salesforce_api_usage{${worker}, kind="limit"}`, "100000x30"],
    ],
    alert: "StripeSalesforceSyncApiUsageHigh",
    at: "20m",
    fires: [{ namespace: "payments", severity: "warning" }],
  },
  {
    what: "calls waiting on the daily budget for half an hour",
    series: [[`sync_api_budget_wait_seconds_total{${worker}}`, "0+30x60"]],
    alert: "StripeSalesforceSyncApiBudgetExhausted",
    at: "45m",
    fires: [{ namespace: "payments", severity: "warning" }],
  },
  {
    what: "the budget waited on once, then not again",
    series: [[`sync_api_budget_wait_seconds_total{${worker}}`, "0 30 30x58"]],
    alert: "StripeSalesforceSyncApiBudgetExhausted",
    at: "45m",
  },
  {
    what: "the worker paused on the API limit",
    series: [[`sync_worker_paused{${worker}, reason="api_limit"}`, "1x30"]],
    alert: "StripeSalesforceSyncWorkerPaused",
    at: "20m",
    fires: [{ namespace: "payments", reason: "api_limit", severity: "warning" }],
  },
  {
    what: "the worker not paused",
    series: [[`sync_worker_paused{${worker}, reason="api_limit"}`, "0x30"]],
    alert: "StripeSalesforceSyncWorkerPaused",
    at: "20m",
  },
  {
    what: "no worker scraped while the webhook is",
    series: [[`process_start_time_seconds{${webhook}}`, "1x30"]],
    alert: "StripeSalesforceSyncWorkerMetricsAbsent",
    at: "15m",
    fires: [{ namespace: "payments", severity: "critical" }],
  },
  {
    what: "a worker scraped",
    series: [[`process_start_time_seconds{${worker}}`, "1x30"]],
    alert: "StripeSalesforceSyncWorkerMetricsAbsent",
    at: "15m",
  },
  {
    what: "no webhook scraped",
    series: [[`process_start_time_seconds{${worker}}`, "1x30"]],
    alert: "StripeSalesforceSyncWebhookMetricsAbsent",
    at: "15m",
    fires: [{ namespace: "payments", severity: "critical" }],
  },
  {
    what: "invalid signatures at one per second",
    series: [
      [`stripe_webhooks_total{${webhook}, event_type="unknown", outcome="invalid_signature"}`, "0+60x30"],
    ],
    alert: "StripeSalesforceSyncSignatureFailures",
    at: "20m",
    fires: [{ namespace: "payments", severity: "warning" }],
  },
  {
    what: "17% of verified webhooks not enqueued",
    series: [
      [`stripe_webhooks_total{${webhook}, event_type="customer.updated", outcome="accepted"}`, "0+100x30"],
      [
        `stripe_webhooks_total{${webhook}, event_type="customer.updated", outcome="enqueue_failed"}`,
        "0+20x30",
      ],
    ],
    alert: "StripeSalesforceSyncEnqueueFailures",
    at: "20m",
    fires: [{ namespace: "payments", severity: "critical" }],
  },
  {
    what: "a single enqueue failure among many webhooks",
    series: [
      [`stripe_webhooks_total{${webhook}, event_type="customer.updated", outcome="accepted"}`, "0+100x30"],
      [
        `stripe_webhooks_total{${webhook}, event_type="customer.updated", outcome="enqueue_failed"}`,
        "0 1x30",
      ],
    ],
    alert: "StripeSalesforceSyncEnqueueFailures",
    at: "20m",
  },
  {
    what: "a worker target down",
    series: [
      [
        'up{namespace="payments", job="sync-stripe-salesforce-sync-worker", instance="10.0.0.5:8001"}',
        "0x20",
      ],
    ],
    alert: "StripeSalesforceSyncTargetDown",
    at: "10m",
    fires: [
      {
        namespace: "payments",
        job: "sync-stripe-salesforce-sync-worker",
        instance: "10.0.0.5:8001",
        severity: "warning",
      },
    ],
  },
];

/** GitHub's anchor for a Markdown heading. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");

describe("the Helm chart's alerts (promtool)", function () {
  const chart = useRenderableChart();
  let promtool: string | undefined;
  let objects: K8sObject[];
  let workdir: string;

  before(function () {
    // Building promtool from source on a cold machine takes minutes.
    this.timeout(20 * 60 * 1000);
    promtool = ensurePromtool();
    objects = render(chart.helm, chart.dir, [kedaOn], { "worker.autoscaling.minReplicaCount": 1 });
    workdir = mkdtempSync(join(tmpdir(), "ssc-rules-"));
  });
  after(() => rmSync(workdir, { recursive: true, force: true }));

  it("passes promtool check rules (PromQL, templates in annotations, no duplicates)", function () {
    if (!promtool) return skipWithoutPromtool(this);
    const file = join(workdir, "rules.yaml");
    writeFileSync(file, stringifyYaml({ groups: groupsOf(objects) }));
    const result = runHelm(promtool, ["check", "rules", file]);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
    expect(result.stdout).to.match(/SUCCESS: \d+ rules found/);
  });

  it("fires each alert when it should and not on a single failure or another release's series (promtool test rules)", function () {
    if (!promtool) return skipWithoutPromtool(this);
    // Annotations are left out: the unit tests check expressions, `for` and labels.
    const rules = join(workdir, "rules-no-annotations.yaml");
    writeFileSync(
      rules,
      stringifyYaml({
        groups: groupsOf(objects).map((g) => ({
          name: g.name,
          rules: g.rules.map((rule) => ({ ...rule, annotations: undefined })),
        })),
      }),
    );
    const tests = join(workdir, "tests.yaml");
    writeFileSync(
      tests,
      stringifyYaml({
        rule_files: [rules],
        evaluation_interval: "1m",
        tests: cases.map((c) => ({
          name: c.what,
          interval: "1m",
          input_series: c.series.map(([series, values]) => ({ series, values })),
          alert_rule_test: [
            {
              eval_time: c.at,
              alertname: c.alert,
              exp_alerts: (c.fires ?? []).map((l) => ({ exp_labels: l })),
            },
          ],
        })),
      }),
    );
    const result = runHelm(promtool, ["test", "rules", tests]);
    expect(result.status, result.stdout + result.stderr).to.equal(0);
  });

  it("has a firing unit test for every alert the chart renders", () => {
    const tested = new Set(cases.filter((c) => c.fires).map((c) => c.alert));
    expect(
      alertsOf(objects)
        .map((a) => a.alert)
        .filter((name) => !tested.has(name)),
    ).to.deep.equal([]);
  });

  it("gives every rate or ratio alert a `for` and every alert a severity", () => {
    for (const rule of alertsOf(objects)) {
      expect(rule.labels?.severity, rule.alert).to.be.oneOf(["warning", "critical"]);
      if (/rate\(|increase\(|absent\(|\//.test(rule.expr)) expect(rule.for, rule.alert).to.match(/^\d+m$/);
    }
  });

  it("links every alert to its entry in the README's Runbook section, and the Runbook to no other alert", () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    const runbook = /^## Runbook\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
    expect(runbook, "README.md has a ## Runbook section").to.be.a("string");
    const headings = [...runbook!.matchAll(/^### (.+)$/gm)].map((m) => m[1]!.trim());
    const alerts = alertsOf(objects);
    for (const rule of alerts) {
      expect(rule.annotations?.runbook_url, rule.alert).to.equal(`${runbookUrl}#${slug(rule.alert)}`);
      expect(headings, `Runbook entry for ${rule.alert}`).to.include(rule.alert);
    }
    expect(headings.filter((h) => !alerts.some((a) => a.alert === h))).to.deep.equal([]);
    // One entry per alert: what it means, what to check, how to fix.
    for (const entry of runbook!.split(/^### /m).slice(1)) {
      const name = entry.split("\n")[0];
      expect(entry, name)
        .to.match(/\*\*Means\*\*/)
        .and.match(/\*\*Check\*\*/)
        .and.match(/\*\*Fix\*\*/);
    }
  });

  it("names only metrics the app exports (or CloudWatch's, KEDA's and Prometheus' own)", async () => {
    const exported = await exportedMetricNames();
    const names = alertsOf(objects).flatMap((rule) => metricNames(rule.expr));
    expect(names).to.include.members(["stripe_webhooks_total", "keda_scaled_object_errors_total"]);
    expect(unknownMetricNames(names, exported)).to.deep.equal([]);
  });

  it("selects the release's own series: worker alerts on its worker pods, webhook alerts on its webhook pods", () => {
    const exprOf = (alert: string) => alertsOf(objects).find((a) => a.alert === alert)!.expr;
    expect(exprOf("StripeSalesforceSyncDeadLettered")).to.contain(
      'namespace="payments", pod=~"sync-stripe-salesforce-sync-worker-.+"',
    );
    expect(exprOf("StripeSalesforceSyncEnqueueFailures")).to.contain(
      'namespace="payments", pod=~"sync-stripe-salesforce-sync-webhook-.+"',
    );
    // No app alert depends on the `service` label only the chart's ServiceMonitors add.
    expect(alertsOf(objects).filter((a) => /service=/.test(a.expr))).to.deep.equal([]);
  });

  it("renders no worker absence alert when the worker may scale to zero, and no KEDA or queue alerts when opted out", () => {
    const names = (set: Record<string, unknown>) =>
      alertsOf(render(chart.helm, chart.dir, [kedaOn], set)).map((a) => a.alert);
    expect(names({})).to.not.include("StripeSalesforceSyncWorkerMetricsAbsent");
    expect(
      names({ "worker.autoscaling.minReplicaCount": 0, "worker.autoscaling.idleReplicaCount": null }),
    ).to.include("StripeSalesforceSyncKedaScalerErrors");
    const optedOut = names({
      "metrics.prometheusRule.kedaMetrics": false,
      "metrics.prometheusRule.cloudwatchExporter": false,
    });
    expect(optedOut.filter((n) => /Keda|Queue|OldestMessage/.test(n))).to.deep.equal([]);
  });
});

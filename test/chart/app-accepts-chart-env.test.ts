import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENT_VARIABLES, loadConfig, type Role } from "../../src/config/config.js";
import { SECRET_VARIABLES } from "../../src/config/read-secret-files.js";
import { isTracingRequested } from "../../src/shared/start-tracing.js";
import { ciValuesDir, release, render, type K8sObject, useRenderableChart } from "./support/helm.js";

/** Variables read by a library rather than by the program's own configuration. */
const readByLibraries = [
  /^AWS_(REGION|ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|ENDPOINT_URL_SQS)$/,
  // Node.js itself (webhook.nodeOptions, worker.nodeOptions).
  /^NODE_OPTIONS$/,
  // OpenTelemetry's SDK (src/shared/start-tracing.ts decides from them whether it starts).
  /^OTEL_(EXPORTER_OTLP_(ENDPOINT|PROTOCOL|HEADERS)|TRACES_SAMPLER(_ARG)?|SERVICE_NAME|RESOURCE_ATTRIBUTES(_POD_NAME|_NODE_NAME)?)$/,
];

const known = (name: string) =>
  ENVIRONMENT_VARIABLES.includes(name) ||
  SECRET_VARIABLES.some((secret) => name === `${secret}_FILE`) ||
  readByLibraries.some((pattern) => pattern.test(name));

type EnvEntry = { name: string; value?: string; valueFrom?: unknown };

/**
 * What the chart sets must be what the app reads: a variable the app does not know is silently
 * ignored (zod drops unknown keys), and a value the app refuses stops the pod at start-up.
 */
describe("the app accepts every variable the chart sets", function () {
  const chart = useRenderableChart();
  const scenarios = readdirSync(ciValuesDir).filter((f) => f.endsWith("-values.yaml"));
  const overrides = {
    "config.salesforce.dailyApiBudget": 5000,
    "config.stripe.readsPerSecond": 20,
    "worker.lanes": 2,
    "worker.maxGroupSize": 500,
    "tracing.enabled": true,
    "tracing.otlp.endpoint": "http://otel-collector.observability:4318",
    "tracing.otlp.headersSecret.name": "otlp-credentials",
    "tracing.sampler.type": "parentbased_traceidratio",
    "tracing.sampler.arg": "0.1",
  };

  for (const file of scenarios) {
    it(`${file.replace(/-values\.yaml$/, "")}, with every optional setting set`, () => {
      const objects = render(chart.helm, chart.dir, [join(ciValuesDir, file)], overrides);
      const deployments = objects.filter(
        (o: K8sObject) => o.kind === "Deployment" && o.metadata.name.startsWith(release.name),
      );
      expect(deployments.length, "the app's Deployments").to.be.greaterThan(0);
      for (const deployment of deployments) {
        const container = deployment.spec.template.spec.containers[0];
        const role = container.args[0] as Role;
        const env: EnvEntry[] = container.env ?? [];
        const unknown = env.map((e) => e.name).filter((name) => !known(name));
        expect(unknown, `${deployment.metadata.name}: variables the app does not read`).to.deep.equal([]);
        const values: NodeJS.ProcessEnv = {};
        for (const entry of env) values[entry.name] = entry.value ?? "from-a-secret";
        expect(
          () => loadConfig(role, values, () => "mounted-secret"),
          `${deployment.metadata.name} (${role}) starts with what the chart sets`,
        ).to.not.throw();
        expect(isTracingRequested(values), `${deployment.metadata.name} starts tracing`).to.equal(true);
        if (role === "worker") {
          const config = loadConfig(role, values, () => "mounted-secret");
          expect(config.worker.lanes).to.equal(2);
          expect(config.worker.maxGroupSize).to.equal(500);
          expect(config.stripe.readsPerSecond).to.equal(20);
          expect(config.salesforce.dailyApiBudget).to.equal(5000);
        }
      }
    });
  }

  it("can fail: a variable the app does not read is named", () => {
    expect(["WORKER_LANE", "SALESFORCE_DAILY_API_BUDGET"].filter((name) => !known(name))).to.deep.equal([
      "WORKER_LANE",
    ]);
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parse as parseYaml } from "yaml";
import {
  envValue,
  findOne,
  parseManifests,
  render,
  repoRoot,
  useRenderableChart,
} from "../chart/support/helm.js";

interface Profile {
  name: string;
  patches?: { op: string; path: string; value: Record<string, string> }[];
  portForward?: { resourceName: string; port: number; localPort: number }[];
}

const skaffold = parseYaml(readFileSync(join(repoRoot, "skaffold.yaml"), "utf8")) as { profiles: Profile[] };
const profile = (name: string) => skaffold.profiles.find((p) => p.name === name)!;

describe("tracing: `skaffold dev -p dev-deps,tracing` sends both roles' traces to the dev Jaeger", () => {
  const chart = useRenderableChart();

  it("the tracing profile points the webhook and the worker at Jaeger's OTLP/HTTP port", () => {
    const patch = profile("tracing").patches?.find((p) => p.path === "/deploy/helm/releases/0/setValues");
    expect(patch?.op).to.equal("add");
    // skaffold passes setValues as `--set`, where helm reads `true` as a boolean.
    const asHelmSet = Object.fromEntries(
      Object.entries(patch!.value).map(([key, value]) => [key, value === "true" ? true : value]),
    );
    const objects = render(
      chart.helm,
      chart.dir,
      [join(repoRoot, "k8s", "examples", "values-dev.yaml")],
      asHelmSet,
    );
    for (const component of ["-webhook", "-worker"]) {
      const container = findOne(objects, "Deployment", component).spec.template.spec.containers[0];
      expect(envValue(container, "OTEL_EXPORTER_OTLP_ENDPOINT"), component).to.equal("http://jaeger:4318");
      expect(envValue(container, "OTEL_RESOURCE_ATTRIBUTES"), component).to.contain(
        `-stripe-salesforce-sync${component},`,
      );
    }
  });

  it("dev-deps runs Jaeger with its OTLP/HTTP port and forwards its UI", () => {
    const objects = parseManifests(readFileSync(join(repoRoot, "k8s", "dev", "jaeger.yaml"), "utf8"));
    const ports = findOne(objects, "Service", "jaeger").spec.ports as { name: string; port: number }[];
    expect(ports.map((port) => port.port)).to.include.members([4318, 16686]);
    expect(profile("dev-deps").portForward).to.deep.include({
      resourceType: "service",
      resourceName: "jaeger",
      port: 16686,
      localPort: 16686,
    });
  });
});

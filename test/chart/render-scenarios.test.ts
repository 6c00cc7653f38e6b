import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import {
  ciValuesDir,
  kubeVersion,
  render,
  runHelm,
  type K8sObject,
  useRenderableChart,
} from "./support/helm.js";
import { schemaProblems } from "./support/kubernetes-schemas.js";

const scenarios = readdirSync(ciValuesDir)
  .filter((file) => file.endsWith("-values.yaml"))
  .sort();

/** Pod templates of every workload in the render. */
function podSpecs(objects: K8sObject[]): { owner: string; spec: K8sObject["spec"] }[] {
  return objects
    .filter((o) => o.kind === "Deployment")
    .map((o) => ({ owner: o.metadata.name, spec: o.spec.template.spec }));
}

// Secret-looking material: Stripe secrets and keys, and credential words in keys or values.
const secretValuePattern = /whsec_|\bsk_(live|test)_|\brk_(live|test)_|-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const secretKeyPattern = /password|secret|token|private[-_]?key|api[-_]?key|client[-_]?secret/i;

describe("the Helm chart's scenarios (charts/stripe-salesforce-sync/ci)", function () {
  const chart = useRenderableChart();

  it("covers the scenarios the chart promises", () => {
    expect(scenarios).to.include.members([
      "default-values.yaml",
      "keda-on-values.yaml",
      "keda-off-values.yaml",
      "irsa-values.yaml",
      "external-redis-values.yaml",
      "ingress-tls-values.yaml",
      "secret-trigger-auth-values.yaml",
    ]);
  });

  for (const scenario of scenarios) {
    describe(scenario, () => {
      let objects: K8sObject[];

      before(() => {
        objects = render(chart.helm, chart.dir, [join(ciValuesDir, scenario)]);
      });

      it("passes helm lint --strict", () => {
        const result = runHelm(chart.helm, [
          "lint",
          "--strict",
          chart.dir,
          "--values",
          join(ciValuesDir, scenario),
          "--kube-version",
          kubeVersion,
        ]);
        expect(result.status, result.stdout + result.stderr).to.equal(0);
      });

      it("renders only objects valid against the Kubernetes, KEDA and Prometheus operator schemas", () => {
        expect(objects.length).to.be.greaterThan(3);
        expect(objects.flatMap(schemaProblems)).to.deep.equal([]);
      });

      it("labels every object with the chart's labels and every component object with its component", () => {
        for (const object of objects) {
          const labels = object.metadata.labels ?? {};
          expect(labels, `${object.kind} ${object.metadata.name}`).to.include({
            "app.kubernetes.io/name": "stripe-salesforce-sync",
            "app.kubernetes.io/instance": "sync",
            "app.kubernetes.io/managed-by": "Helm",
          });
          if (/-(webhook|worker)$/.test(object.metadata.name)) {
            expect(labels["app.kubernetes.io/component"], object.metadata.name).to.equal(
              object.metadata.name.endsWith("-webhook") ? "webhook" : "worker",
            );
          }
        }
      });

      it("selects pods by name, instance and component only (selectors survive upgrades)", () => {
        for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
          expect(Object.keys(deployment.spec.selector.matchLabels).sort()).to.deep.equal([
            "app.kubernetes.io/component",
            "app.kubernetes.io/instance",
            "app.kubernetes.io/name",
          ]);
          expect(deployment.spec.template.metadata.labels).to.include(deployment.spec.selector.matchLabels);
        }
      });

      it("runs every container non-root, with a read-only root filesystem and no capabilities", () => {
        const pods = podSpecs(objects);
        expect(pods.length).to.be.greaterThan(0);
        for (const { owner, spec } of pods) {
          expect(spec.securityContext?.runAsNonRoot, owner).to.equal(true);
          expect(spec.securityContext?.seccompProfile?.type, owner).to.equal("RuntimeDefault");
          for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
            const sc = container.securityContext ?? {};
            const where = `${owner}/${container.name}`;
            expect(sc.runAsNonRoot, where).to.equal(true);
            expect(sc.runAsUser, where).to.be.a("number").and.not.equal(0);
            expect(sc.readOnlyRootFilesystem, where).to.equal(true);
            expect(sc.allowPrivilegeEscalation, where).to.equal(false);
            expect(sc.capabilities?.drop, where).to.deep.equal(["ALL"]);
            expect(sc.capabilities?.add ?? [], where).to.deep.equal([]);
            const tmp = container.volumeMounts?.find((m: { mountPath: string }) => m.mountPath === "/tmp");
            expect(tmp, `${where} mounts /tmp`).to.not.equal(undefined);
            const volume = spec.volumes.find((v: { name: string }) => v.name === tmp.name);
            expect(volume?.emptyDir, `${where} /tmp is an emptyDir`).to.not.equal(undefined);
          }
        }
      });

      it("puts no secret in a ConfigMap or in a plain env value", () => {
        for (const configMap of objects.filter((o) => o.kind === "ConfigMap")) {
          for (const [key, value] of Object.entries<string>(configMap.data ?? {})) {
            expect(key, `${configMap.metadata.name} key`).to.not.match(secretKeyPattern);
            expect(value, `${configMap.metadata.name}/${key}`).to.not.match(secretValuePattern);
            expect(value, `${configMap.metadata.name}/${key}`).to.not.match(
              /(password|secret|token)\s*[:=]/i,
            );
          }
        }
        for (const { owner, spec } of podSpecs(objects)) {
          for (const container of spec.containers) {
            for (const env of container.env ?? []) {
              if (env.value === undefined) continue;
              const where = `${owner}/${container.name} ${env.name}`;
              expect(env.value, where).to.not.match(secretValuePattern);
              // A secret variable is either a *_FILE path or a secretKeyRef, never a literal.
              if (secretKeyPattern.test(env.name) && env.name !== "SALESFORCE_PRIVATE_KEY_FILE") {
                expect(env.name, where).to.match(/_FILE$/);
                expect(env.value, where).to.match(/^\/var\/run\/secrets\/stripe-salesforce-sync\//);
              }
            }
          }
        }
      });

      it("renders a Secret only when secrets.create asks for the development Secret", () => {
        const secrets = objects.filter((o) => o.kind === "Secret");
        if (scenario === "dev-secrets-values.yaml") {
          expect(secrets.map((s) => s.metadata.name)).to.deep.equal([
            "sync-stripe-salesforce-sync-dev-secrets",
          ]);
          expect(secrets[0]!.metadata.annotations).to.include({
            "stripe-salesforce-sync/development-only": "true",
          });
        } else {
          expect(secrets).to.deep.equal([]);
        }
      });
    });
  }
});

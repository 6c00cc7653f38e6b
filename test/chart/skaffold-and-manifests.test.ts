import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";
import {
  envValue,
  findOne,
  kubeVersion,
  parseManifests,
  render,
  repoRoot,
  runHelm,
  type K8sObject,
  useRenderableChart,
} from "./support/helm.js";
import { schemaProblems } from "./support/kubernetes-schemas.js";

// The Skaffold schema checks the shape; the assertions below read into it freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const skaffold = parseYaml(readFileSync(join(repoRoot, "skaffold.yaml"), "utf8")) as Record<string, any>;
const devDir = join(repoRoot, "k8s", "dev");
const examplesDir = join(repoRoot, "k8s", "examples");

describe("skaffold.yaml", () => {
  it("validates against the Skaffold v4beta14 schema", () => {
    // Skaffold's published schema, vendored unchanged (test/chart/vendor/README.md).
    const schemaPath =
      process.env.SKAFFOLD_SCHEMA ?? join(repoRoot, "test", "chart", "vendor", "skaffold-v4beta14.json");
    const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as { $schema: string };
    expect(schema.$schema).to.equal("http://json-schema.org/draft-07/schema#");
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    expect(validate(skaffold), JSON.stringify(validate.errors, null, 2)).to.equal(true);
    expect(validate({ ...skaffold, deploy: { helm: { releases: [{ chartPath: "x" }] } } })).to.equal(false);
  });

  it("builds the Dockerfile locally and installs the chart with the dev values and the built image", () => {
    expect(skaffold.apiVersion).to.equal("skaffold/v4beta14");
    expect(skaffold.build.local.push).to.equal(false);
    expect(skaffold.build.artifacts).to.deep.equal([
      { image: "stripe-salesforce-sync", context: ".", docker: { dockerfile: "Dockerfile" } },
    ]);
    const [release] = skaffold.deploy.helm.releases;
    expect(release.chartPath).to.equal("charts/stripe-salesforce-sync");
    expect(release.valuesFiles).to.deep.equal(["k8s/examples/values-dev.yaml"]);
    expect(release.setValueTemplates).to.include({
      "image.repository": "{{.IMAGE_REPO_stripe_salesforce_sync}}",
      "image.tag": "{{.IMAGE_TAG_stripe_salesforce_sync}}",
    });
    expect(skaffold.portForward).to.deep.include({
      resourceType: "service",
      resourceName: `${release.name}-webhook`,
      port: 8000,
      localPort: 8000,
    });
  });

  it("deploys every k8s/dev manifest in the dev-deps profile", () => {
    const profile = skaffold.profiles.find((p: { name: string }) => p.name === "dev-deps");
    expect(profile.deploy).to.have.property("kubectl");
    const listed = (profile.manifests.rawYaml as string[]).map((path) => path.replace("k8s/dev/", "")).sort();
    expect(listed).to.deep.equal(
      readdirSync(devDir)
        .filter((f) => f.endsWith(".yaml"))
        .sort(),
    );
  });
});

describe("the development manifests (k8s/dev)", () => {
  const objects: K8sObject[] = readdirSync(devDir)
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) => parseManifests(readFileSync(join(devDir, f), "utf8")));

  it("are valid Kubernetes objects", () => {
    expect(objects.length).to.be.greaterThan(4);
    expect(objects.flatMap(schemaProblems)).to.deep.equal([]);
  });

  it("create the queue and a dead-letter queue after 20 receives in fauxqs", () => {
    const init = JSON.parse(findOne(objects, "ConfigMap", "fauxqs-init").data["init.json"]) as {
      queues: { name: string; attributes?: Record<string, string> }[];
    };
    const names = init.queues.map((q) => q.name);
    expect(names).to.include.members(["stripe-events", "stripe-events-dlq"]);
    expect(names.indexOf("stripe-events-dlq")).to.be.lessThan(names.indexOf("stripe-events"));
    const queue = init.queues.find((q) => q.name === "stripe-events")!;
    expect(JSON.parse(queue.attributes!.RedrivePolicy!)).to.deep.equal({
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:stripe-events-dlq",
      maxReceiveCount: "20",
    });
    const fauxqs = findOne(objects, "Deployment", "fauxqs").spec.template.spec.containers[0];
    expect(fauxqs.image).to.match(/^kibertoad\/fauxqs(:|$)/);
    expect(envValue(fauxqs, "FAUXQS_INIT")).to.equal("/etc/fauxqs/init.json");
    expect(findOne(objects, "Service", "fauxqs").spec.ports[0].port).to.equal(4566);
  });

  it("run the Salesforce emulator from the app image on port 8085", () => {
    const emulator = findOne(objects, "Deployment", "salesforce-emulator").spec.template.spec.containers[0];
    expect(emulator.image).to.equal(skaffold.build.artifacts[0].image);
    expect(emulator.args).to.deep.equal(["salesforce-emulator"]);
    expect(emulator.securityContext).to.include({ readOnlyRootFilesystem: true, runAsNonRoot: true });
    expect(findOne(objects, "Service", "salesforce-emulator").spec.ports[0].port).to.equal(8085);
  });

  it("hold only fake credentials in the development Secret", () => {
    const secret = findOne(objects, "Secret", "stripe-salesforce-sync-dev");
    expect(secret.stringData["webhook-secret"]).to.match(/^whsec_dev_/);
    expect(Object.values<string>(secret.stringData).join(" ")).to.not.match(/sk_live_|rk_live_/);
  });
});

describe("the example values (k8s/examples)", function () {
  const chart = useRenderableChart();

  for (const file of ["values-dev.yaml", "values-eks-irsa.yaml", "values-external-redis.yaml"]) {
    it(`${file} lints strictly and renders valid objects`, () => {
      const lint = runHelm(chart.helm, [
        "lint",
        "--strict",
        chart.dir,
        "--values",
        join(examplesDir, file),
        "--kube-version",
        kubeVersion,
      ]);
      expect(lint.status, lint.stdout + lint.stderr).to.equal(0);
      expect(render(chart.helm, chart.dir, [join(examplesDir, file)]).flatMap(schemaProblems)).to.deep.equal(
        [],
      );
    });
  }

  it("values-dev.yaml points the app at the dev dependencies and the dev Secret", () => {
    const objects = render(chart.helm, chart.dir, [join(examplesDir, "values-dev.yaml")]);
    const worker = findOne(objects, "Deployment", "-worker").spec.template.spec;
    const env = worker.containers[0];
    expect(envValue(env, "AWS_ENDPOINT_URL_SQS")).to.equal("http://fauxqs:4566");
    expect(envValue(env, "SQS_QUEUE_URL")).to.equal("http://fauxqs:4566/000000000000/stripe-events");
    expect(envValue(env, "SALESFORCE_LOGIN_URL")).to.equal("http://salesforce-emulator:8085");
    const secretNames = worker.volumes.map((v: { secret?: { secretName: string } }) => v.secret?.secretName);
    expect(secretNames).to.include("stripe-salesforce-sync-dev");
  });
});

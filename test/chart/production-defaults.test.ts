import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import {
  chartDir,
  ciValuesDir,
  copyChartWithRedis,
  envValue,
  findOne,
  noRedisChartReason,
  render,
  runHelm,
  template,
  type K8sObject,
  useRenderableChart,
  vendoredRedisChart,
} from "./support/helm.js";

const defaults = join(ciValuesDir, "default-values.yaml");
const container = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];
const names = (objects: K8sObject[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`);

interface Dependency {
  name: string;
  version?: string;
  repository: string;
  condition?: string;
}

/** Helm's Chart.lock digest (internal/resolver HashReq): sha256 of the JSON of [Chart.yaml deps, locked deps]. */
function lockDigest(requested: Dependency[], locked: Dependency[]): string {
  const json = (d: Dependency) => ({
    name: d.name,
    ...(d.version ? { version: d.version } : {}),
    repository: d.repository,
    ...(d.condition ? { condition: d.condition } : {}),
  });
  const data = JSON.stringify([requested.map(json), locked.map((d) => json({ ...d, condition: undefined }))]);
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

describe("the Helm chart's production defaults", function () {
  const chart = useRenderableChart();

  describe("KEDA", () => {
    it("keeps at least one worker and falls back to two replicas when the queue cannot be read", () => {
      const scaledObject = findOne(render(chart.helm, chart.dir, [defaults]), "ScaledObject", "-worker");
      expect(scaledObject.spec.minReplicaCount).to.equal(1);
      expect(scaledObject.spec).to.not.have.property("idleReplicaCount");
      expect(scaledObject.spec.fallback).to.deep.equal({
        failureThreshold: 3,
        replicas: 2,
        behavior: "currentReplicasIfHigher",
      });
    });

    it("renders idleReplicaCount, ScaledObject annotations (paused) and no fallback when asked", () => {
      const scaledObject = findOne(
        render(chart.helm, chart.dir, [defaults], {
          "worker.autoscaling.idleReplicaCount": 0,
          "worker.autoscaling.annotations": { "autoscaling.keda.sh/paused": "true" },
          "worker.autoscaling.fallback.enabled": false,
        }),
        "ScaledObject",
        "-worker",
      );
      expect(scaledObject.spec.idleReplicaCount).to.equal(0);
      expect(scaledObject.metadata.annotations).to.deep.equal({ "autoscaling.keda.sh/paused": "true" });
      expect(scaledObject.spec).to.not.have.property("fallback");
    });
  });

  describe("PodDisruptionBudgets", () => {
    it("never block a drain: a single webhook replica gets maxUnavailable, not minAvailable: 1", () => {
      const pdb = findOne(
        render(chart.helm, chart.dir, [defaults], { "webhook.replicaCount": 1 }),
        "PodDisruptionBudget",
        "-webhook",
      );
      expect(pdb.spec).to.deep.include({ maxUnavailable: 1 });
      expect(pdb.spec).to.not.have.property("minAvailable");
    });

    it("take minAvailable instead when it stays below the replicas", () => {
      const pdb = findOne(
        render(chart.helm, chart.dir, [defaults], {
          "webhook.replicaCount": 3,
          "webhook.podDisruptionBudget.minAvailable": 2,
          "webhook.podDisruptionBudget.maxUnavailable": null,
        }),
        "PodDisruptionBudget",
        "-webhook",
      );
      expect(pdb.spec).to.deep.include({ minAvailable: 2 }).and.not.have.property("maxUnavailable");
    });
  });

  describe("Redis as a bounded cache", () => {
    it("names the bundled Redis after the release and builds REDIS_URL from clusterDomain", () => {
      const worker = (set: Record<string, unknown>, target = { name: "sync", namespace: "payments" }) =>
        container(findOne(render(chart.helm, chart.dir, [defaults], set, target), "Deployment", "-worker"));
      expect(envValue(worker({}), "REDIS_URL")).to.equal(
        "redis://sync-redis-master.payments.svc.cluster.local:6379/0",
      );
      expect(
        envValue(
          worker({ clusterDomain: "corp.internal", "redis.clusterDomain": "corp.internal" }),
          "REDIS_URL",
        ),
      ).to.equal("redis://sync-redis-master.payments.svc.corp.internal:6379/0");
      // Bitnami's rule: a release name that already contains "redis" is used as is.
      expect(envValue(worker({}, { name: "redis-sync", namespace: "payments" }), "REDIS_URL")).to.match(
        /^redis:\/\/redis-sync-master\./,
      );
    });

    it("renders two releases in one namespace without a shared object name", () => {
      const first = names(render(chart.helm, chart.dir, [join(ciValuesDir, "keda-on-values.yaml")]));
      const second = names(
        render(
          chart.helm,
          chart.dir,
          [join(ciValuesDir, "keda-on-values.yaml")],
          {},
          {
            name: "second",
            namespace: "payments",
          },
        ),
      );
      expect(first.filter((n) => second.includes(n))).to.deep.equal([]);
    });

    it("caps Redis at about 80% of its memory limit and evicts least recently used keys", () => {
      const values = parseYaml(readFileSync(join(chartDir, "values.yaml"), "utf8")) as {
        redis: { commonConfiguration: string; master: { resources: { limits: { memory: string } } } };
      };
      const conf = values.redis.commonConfiguration;
      expect(conf).to.match(/^maxmemory-policy allkeys-lru$/m);
      const maxmemory = /^maxmemory (\d+)mb$/m.exec(conf)?.[1];
      const limit = /^(\d+)Mi$/.exec(values.redis.master.resources.limits.memory)?.[1];
      const ratio = Number(maxmemory) / Number(limit);
      expect(ratio).to.be.within(0.75, 0.85);
    });

    it("uses the subchart's own Redis image, relocated to bitnamilegacy, which needs allowInsecureImages", () => {
      const values = parseYaml(readFileSync(join(chartDir, "values.yaml"), "utf8")) as {
        redis: { image: { registry: string; repository: string; tag: string } };
        global: { security: { allowInsecureImages: boolean } };
      };
      expect(values.redis.image).to.deep.equal({
        registry: "docker.io",
        repository: "bitnamilegacy/redis",
        tag: "8.0.3-debian-12-r1",
      });
      expect(values.global.security.allowInsecureImages).to.equal(true);
    });

    describe("rendered with the real Bitnami subchart", () => {
      let objects: K8sObject[];
      let cleanup: (() => void) | undefined;
      let redisChart: string | undefined;

      before(function () {
        redisChart = vendoredRedisChart();
        if (!redisChart) {
          console.log(`      skipped: ${noRedisChartReason}`);
          this.skip();
        }
        const copy = copyChartWithRedis(redisChart);
        cleanup = copy.cleanup;
        objects = render(chart.helm, copy.dir, [defaults]);
      });
      after(() => cleanup?.());

      it("runs the image the subchart ships, only moved from bitnami/ to bitnamilegacy/", () => {
        const annotations = (
          parseYaml(readFileSync(join(redisChart!, "Chart.yaml"), "utf8")) as {
            annotations: { images: string };
          }
        ).annotations.images;
        const shipped = (parseYaml(annotations) as { name: string; image: string }[]).find(
          (i) => i.name === "redis",
        )!.image;
        const statefulSet = findOne(objects, "StatefulSet", "-master");
        const image = statefulSet.spec.template.spec.containers[0].image as string;
        expect(image).to.equal(shipped.replace("docker.io/bitnami/", "docker.io/bitnamilegacy/"));
        expect(image).to.equal("docker.io/bitnamilegacy/redis:8.0.3-debian-12-r1");
      });

      it("gives Redis the chart's resources, maxmemory and eviction policy, and deletes its volume with the release", () => {
        const statefulSet = findOne(objects, "StatefulSet", "-master");
        expect(statefulSet.metadata.name).to.equal("sync-redis-master");
        expect(statefulSet.spec.template.spec.containers[0].resources).to.deep.equal({
          requests: { cpu: "100m", memory: "512Mi" },
          limits: { memory: "512Mi" },
        });
        expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).to.deep.equal({
          whenScaled: "Retain",
          whenDeleted: "Delete",
        });
        const conf = findOne(objects, "ConfigMap", "-configuration").data["redis.conf"] as string;
        expect(conf)
          .to.match(/^maxmemory 410mb$/m)
          .and.match(/^maxmemory-policy allkeys-lru$/m);
      });

      it("names the master Service and password Secret the app is pointed at", () => {
        const worker = container(findOne(objects, "Deployment", "-worker"));
        const host = /^redis:\/\/([^.]+)\./.exec(envValue(worker, "REDIS_URL")!)![1];
        expect(names(objects)).to.include(`Service/${host}`);
        const secretVolume = findOne(objects, "Deployment", "-worker").spec.template.spec.volumes.find(
          (v: { name: string }) => v.name === "redis-secrets",
        );
        expect(names(objects)).to.include(`Secret/${secretVolume.secret.secretName}`);
      });
    });
  });

  describe("rolling pods when secrets change", () => {
    it("rolls both components when the chart's own development Secret changes (checksum annotation)", () => {
      const checksums = (secret: string) => {
        const objects = render(chart.helm, chart.dir, [join(ciValuesDir, "dev-secrets-values.yaml")], {
          "secrets.values.stripeWebhookSecret": secret,
        });
        return ["-webhook", "-worker"].map(
          (c) => findOne(objects, "Deployment", c).spec.template.metadata.annotations["checksum/dev-secrets"],
        );
      };
      const before = checksums("whsec_first");
      const after = checksums("whsec_second");
      expect(before[0]).to.match(/^[a-f0-9]{64}$/);
      expect(after[0]).to.not.equal(before[0]);
      expect(after[1]).to.not.equal(before[1]);
      expect(checksums("whsec_first")).to.deep.equal(before);
    });

    it("annotates each Deployment for Reloader with exactly the existing Secrets it mounts, when asked", () => {
      const objects = render(chart.helm, chart.dir, [join(ciValuesDir, "secret-trigger-auth-values.yaml")], {
        "secrets.reloaderAnnotations": true,
      });
      const annotation = (c: string) =>
        findOne(objects, "Deployment", c).metadata.annotations?.["secret.reloader.stakater.com/reload"];
      expect(annotation("-webhook")).to.equal("aws-sqs-credentials,stripe-credentials");
      expect(annotation("-worker")).to.equal("aws-sqs-credentials,salesforce-credentials,sync-redis");
      const plain = render(chart.helm, chart.dir, [defaults]);
      expect(findOne(plain, "Deployment", "-worker").metadata.annotations ?? {}).to.deep.equal({});
    });
  });

  describe("chart conventions", () => {
    it("renders startup probes, revision history, lifecycle hooks, init containers, sidecars and envFrom", () => {
      const sidecar = {
        name: "proxy",
        image: "envoyproxy/envoy:v1.36.0",
        securityContext: { runAsNonRoot: true },
      };
      const objects = render(chart.helm, chart.dir, [defaults], {
        "worker.lifecycle": { preStop: { sleep: { seconds: 5 } } },
        "worker.initContainers": [{ name: "wait", image: "busybox:1.37", args: ["{{ .Release.Name }}"] }],
        "worker.extraContainers": [sidecar],
        "worker.extraEnvFrom": [{ configMapRef: { name: "worker-tuning" } }],
        "webhook.revisionHistoryLimit": 3,
      });
      const worker = findOne(objects, "Deployment", "-worker");
      const pod = worker.spec.template.spec;
      expect(container(worker).startupProbe).to.deep.include({
        httpGet: { path: "/health/live", port: "http" },
      });
      expect(container(findOne(objects, "Deployment", "-webhook")).startupProbe).to.have.property(
        "failureThreshold",
      );
      expect(worker.spec.revisionHistoryLimit).to.equal(10);
      expect(findOne(objects, "Deployment", "-webhook").spec.revisionHistoryLimit).to.equal(3);
      expect(container(worker).lifecycle).to.deep.equal({ preStop: { sleep: { seconds: 5 } } });
      expect(pod.initContainers).to.deep.equal([{ name: "wait", image: "busybox:1.37", args: ["sync"] }]);
      expect(pod.containers.map((c: { name: string }) => c.name)).to.deep.equal(["worker", "proxy"]);
      expect(container(worker).envFrom).to.deep.equal([{ configMapRef: { name: "worker-tuning" } }]);
    });

    it("renders extraObjects, as objects or templated strings", () => {
      const objects = render(chart.helm, chart.dir, [defaults], {
        extraObjects: [
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "{{ .Release.Name }}-extra" },
            data: { a: "b" },
          },
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra-string\n",
        ],
      });
      expect(names(objects)).to.include.members(["ConfigMap/sync-extra", "ConfigMap/sync-extra-string"]);
    });

    it("passes ServiceMonitor relabelings and metricRelabelings through", () => {
      const relabelings = [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node" }];
      const metricRelabelings = [{ sourceLabels: ["__name__"], regex: "nodejs_.*", action: "drop" }];
      const objects = render(chart.helm, chart.dir, [defaults], {
        "metrics.serviceMonitor.enabled": true,
        "metrics.serviceMonitor.relabelings": relabelings,
        "metrics.serviceMonitor.metricRelabelings": metricRelabelings,
      });
      for (const component of ["-webhook", "-worker"]) {
        expect(findOne(objects, "ServiceMonitor", component).spec.endpoints[0]).to.deep.include({
          relabelings,
          metricRelabelings,
        });
      }
    });

    it("refuses a /tmp size that is not a Kubernetes quantity", () => {
      const banana = template(chart.helm, chart.dir, [defaults], { tmpSizeLimit: "banana" });
      expect(banana.status).to.not.equal(0);
      expect(banana.stderr).to.match(/tmpSizeLimit/);
      expect(template(chart.helm, chart.dir, [defaults], { tmpSizeLimit: "128Mi" }).status).to.equal(0);
    });
  });

  describe("Chart.lock", () => {
    it("is committed and in step with Chart.yaml's dependencies (helm's own digest)", () => {
      const chartYaml = parseYaml(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as {
        dependencies: Dependency[];
      };
      const lock = parseYaml(readFileSync(join(chartDir, "Chart.lock"), "utf8")) as {
        dependencies: Dependency[];
        digest: string;
      };
      expect(lock.dependencies).to.deep.equal(
        chartYaml.dependencies.map(({ name, version, repository }) => ({ name, repository, version })),
      );
      expect(lock.digest).to.equal(lockDigest(chartYaml.dependencies, lock.dependencies));
    });

    it("computes the digest as helm does (checked against `helm dependency update` on a local dependency)", () => {
      const root = mkdtempSync(join(tmpdir(), "ssc-lock-"));
      try {
        mkdirSync(join(root, "dep"));
        writeFileSync(join(root, "dep", "Chart.yaml"), "apiVersion: v2\nname: dep\nversion: 1.2.3\n");
        mkdirSync(join(root, "app"));
        const dependency = {
          name: "dep",
          version: "1.2.3",
          repository: `file://${root}/dep`,
          condition: "dep.enabled",
        };
        writeFileSync(
          join(root, "app", "Chart.yaml"),
          JSON.stringify({ apiVersion: "v2", name: "app", version: "0.1.0", dependencies: [dependency] }),
        );
        const result = runHelm(chart.helm, ["dependency", "update", join(root, "app")]);
        expect(result.status, result.stderr).to.equal(0);
        const lock = parseYaml(readFileSync(join(root, "app", "Chart.lock"), "utf8")) as {
          dependencies: Dependency[];
          digest: string;
        };
        expect(lockDigest([dependency], lock.dependencies)).to.equal(lock.digest);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  });
});

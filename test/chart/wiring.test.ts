import { expect } from "chai";
import { join } from "node:path";
import {
  ciValuesDir,
  copyChartWithoutDependencies,
  ensureHelm,
  envValue,
  findOne,
  release,
  render,
  type K8sObject,
} from "./support/helm.js";

const values = (name: string) => join(ciValuesDir, `${name}-values.yaml`);
const container = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];

describe("the Helm chart's wiring", function () {
  let helm: string;
  let chart: { dir: string; cleanup: () => void };

  before(function () {
    this.timeout(15 * 60 * 1000);
    helm = ensureHelm();
    chart = copyChartWithoutDependencies();
  });

  after(() => chart?.cleanup());

  describe("with KEDA", () => {
    let objects: K8sObject[];
    before(() => {
      objects = render(helm, chart.dir, [values("keda-on")]);
    });

    it("scales the worker Deployment on the same queue the worker reads", () => {
      const scaledObject = findOne(objects, "ScaledObject", "-worker");
      const worker = findOne(objects, "Deployment", "-worker");
      expect(scaledObject.spec.scaleTargetRef).to.deep.include({
        kind: "Deployment",
        name: worker.metadata.name,
      });
      const [trigger, ...others] = scaledObject.spec.triggers;
      expect(others).to.deep.equal([]);
      expect(trigger.type).to.equal("aws-sqs-queue");
      const queueUrl = envValue(container(worker), "SQS_QUEUE_URL");
      expect(queueUrl).to.equal("https://sqs.eu-west-1.amazonaws.com/123456789012/stripe-events");
      expect(trigger.metadata.queueURL).to.equal(queueUrl);
      expect(trigger.metadata.awsRegion).to.equal(envValue(container(worker), "AWS_REGION"));
      expect(trigger.metadata).to.include({
        queueLength: "50",
        activationQueueLength: "0",
        scaleOnInFlight: "true",
      });
    });

    it("lets KEDA own the worker's replicas, down to zero", () => {
      const scaledObject = findOne(objects, "ScaledObject", "-worker");
      expect(scaledObject.spec.minReplicaCount).to.equal(0);
      expect(scaledObject.spec.maxReplicaCount).to.equal(20);
      expect(scaledObject.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown).to.have.property(
        "stabilizationWindowSeconds",
      );
      expect(findOne(objects, "Deployment", "-worker").spec).to.not.have.property("replicas");
    });

    it("authenticates the trigger as the worker's workload identity", () => {
      const scaledObject = findOne(objects, "ScaledObject", "-worker");
      const auth = findOne(objects, "TriggerAuthentication", "-worker");
      expect(scaledObject.spec.triggers[0].authenticationRef.name).to.equal(auth.metadata.name);
      expect(auth.spec.podIdentity).to.deep.equal({ provider: "aws", identityOwner: "workload" });
    });

    it("scrapes both components and alerts on the app's and CloudWatch's metrics", () => {
      for (const component of ["webhook", "worker"]) {
        const monitor = findOne(objects, "ServiceMonitor", `-${component}`);
        const service = findOne(objects, "Service", `-${component}`);
        expect(service.metadata.labels).to.include(monitor.spec.selector.matchLabels);
        expect(monitor.spec.endpoints[0]).to.include({ port: "http", path: "/metrics" });
        expect(service.spec.ports.map((p: { name: string }) => p.name)).to.include("http");
      }
      const rule = findOne(objects, "PrometheusRule");
      const rules = rule.spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules);
      const exprOf = (alert: string) =>
        rules.find((r: { alert: string }) => r.alert === alert)?.expr as string;
      expect(exprOf("StripeSalesforceSyncDeadLetterQueueNotEmpty")).to.contain(
        'aws_sqs_approximate_number_of_messages_visible_average{queue_name="stripe-events-dlq"}',
      );
      expect(exprOf("StripeSalesforceSyncOldestMessageTooOld")).to.contain(
        'aws_sqs_approximate_age_of_oldest_message_maximum{queue_name="stripe-events"}',
      );
      expect(exprOf("StripeSalesforceSyncDeadLettered")).to.contain("increase(sync_dead_letter_total");
      expect(exprOf("StripeSalesforceSyncSalesforceErrors")).to.contain("salesforce_api_calls_total");
      expect(exprOf("StripeSalesforceSyncSignatureFailures")).to.contain('outcome="invalid_signature"');
      expect(exprOf("StripeSalesforceSyncTokenFailures")).to.contain("salesforce_token_requests_total");
    });

    it("mounts the mapping overrides from a ConfigMap and points MAPPING_FILE at them", () => {
      const worker = findOne(objects, "Deployment", "-worker");
      const configMap = findOne(objects, "ConfigMap", "-mapping");
      const mappingFile = envValue(container(worker), "MAPPING_FILE");
      const mount = container(worker).volumeMounts.find((m: { mountPath: string }) =>
        mappingFile?.startsWith(`${m.mountPath}/`),
      );
      const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount?.name);
      expect(volume?.configMap?.name).to.equal(configMap.metadata.name);
      expect(Object.keys(configMap.data)).to.include(mappingFile!.split("/").pop());
    });
  });

  describe("probes and ports", () => {
    let objects: K8sObject[];
    before(() => {
      objects = render(helm, chart.dir, [values("default")]);
    });

    for (const [component, port, portVariable] of [
      ["webhook", 8000, "PORT"],
      ["worker", 8001, "WORKER_PORT"],
    ] as const) {
      it(`probes the ${component} on /health/live and /health/ready at its own port ${port}`, () => {
        const c = container(findOne(objects, "Deployment", `-${component}`));
        const http = c.ports.find((p: { name: string }) => p.name === "http");
        expect(http.containerPort).to.equal(port);
        expect(envValue(c, portVariable)).to.equal(String(port));
        expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/health/live", port: "http" });
        expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/health/ready", port: "http" });
      });
    }

    it("runs each role by the container argument on the same image", () => {
      const webhook = container(findOne(objects, "Deployment", "-webhook"));
      const worker = container(findOne(objects, "Deployment", "-worker"));
      expect(webhook.args).to.deep.equal(["web"]);
      expect(worker.args).to.deep.equal(["worker"]);
      expect(webhook.image).to.equal(worker.image);
      expect(webhook).to.not.have.property("command");
    });
  });

  describe("the ingress", () => {
    it("routes only POST /webhook/stripe's path to the webhook Service, over TLS", () => {
      const objects = render(helm, chart.dir, [values("ingress-tls")]);
      const ingress = findOne(objects, "Ingress");
      const service = findOne(objects, "Service", "-webhook");
      expect(ingress.spec.ingressClassName).to.equal("nginx");
      expect(ingress.spec.tls).to.deep.equal([
        { hosts: ["hooks.example.com"], secretName: "hooks-example-com-tls" },
      ]);
      const paths = ingress.spec.rules.flatMap((r: { http: { paths: unknown[] } }) => r.http.paths);
      expect(ingress.spec.rules.map((r: { host: string }) => r.host)).to.deep.equal(["hooks.example.com"]);
      expect(paths).to.deep.equal([
        {
          path: "/webhook/stripe",
          pathType: "Exact",
          backend: { service: { name: service.metadata.name, port: { number: 8000 } } },
        },
      ]);
    });

    it("is not rendered unless enabled", () => {
      expect(render(helm, chart.dir, [values("default")]).filter((o) => o.kind === "Ingress")).to.deep.equal(
        [],
      );
    });
  });

  describe("the worker's shutdown", () => {
    for (const scenario of ["default", "keda-off"]) {
      it(`gives the worker more grace than its drain bound (${scenario})`, () => {
        const worker = findOne(render(helm, chart.dir, [values(scenario)]), "Deployment", "-worker");
        const drain = Number(envValue(container(worker), "WORKER_SHUTDOWN_TIMEOUT_SECONDS"));
        expect(drain).to.be.greaterThan(0);
        expect(worker.spec.template.spec.terminationGracePeriodSeconds).to.be.greaterThan(drain);
      });
    }

    it("derives the grace period from the drain bound when not set", () => {
      const objects = render(helm, chart.dir, [values("default")], { "worker.shutdownTimeoutSeconds": 50 });
      const worker = findOne(objects, "Deployment", "-worker");
      expect(envValue(container(worker), "WORKER_SHUTDOWN_TIMEOUT_SECONDS")).to.equal("50");
      expect(worker.spec.template.spec.terminationGracePeriodSeconds).to.equal(65);
    });
  });

  describe("without KEDA", () => {
    it("runs worker.replicaCount workers and renders no KEDA object", () => {
      const objects = render(helm, chart.dir, [values("keda-off")]);
      expect(findOne(objects, "Deployment", "-worker").spec.replicas).to.equal(3);
      expect(objects.filter((o) => o.apiVersion.startsWith("keda.sh/"))).to.deep.equal([]);
    });
  });

  describe("Redis", () => {
    it("points the worker at the bundled chart's master service and its generated password Secret", () => {
      const objects = render(helm, chart.dir, [values("default")]);
      const worker = findOne(objects, "Deployment", "-worker");
      const c = container(worker);
      // The Bitnami chart names its objects after redis.fullnameOverride: <name>-master, Secret <name>.
      expect(envValue(c, "REDIS_URL")).to.equal(
        `redis://stripe-salesforce-sync-redis-master.${release.namespace}.svc.cluster.local:6379/0`,
      );
      const passwordFile = envValue(c, "REDIS_PASSWORD_FILE")!;
      const mount = c.volumeMounts.find((m: { mountPath: string }) =>
        passwordFile.startsWith(`${m.mountPath}/`),
      );
      const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
      expect(volume.secret.secretName).to.equal("stripe-salesforce-sync-redis");
      expect(volume.secret.items).to.deep.equal([
        { key: "redis-password", path: passwordFile.split("/").pop() },
      ]);
    });

    it("follows redis.fullnameOverride and an existing password Secret", () => {
      const objects = render(helm, chart.dir, [values("default")], {
        "redis.fullnameOverride": "cache",
        "redis.auth.existingSecret": "redis-auth",
        "redis.auth.existingSecretPasswordKey": "pw",
      });
      const worker = findOne(objects, "Deployment", "-worker");
      expect(envValue(container(worker), "REDIS_URL")).to.match(/^redis:\/\/cache-master\./);
      expect(envValue(container(worker), "REDIS_PASSWORD_FILE")).to.match(/\/redis\/pw$/);
      const secretNames = worker.spec.template.spec.volumes.map(
        (v: { secret?: { secretName: string } }) => v.secret?.secretName,
      );
      expect(secretNames).to.include("redis-auth");
    });

    it("uses externalRedis.url and its password Secret when the bundled chart is off", () => {
      const objects = render(helm, chart.dir, [values("external-redis")]);
      const worker = findOne(objects, "Deployment", "-worker");
      expect(envValue(container(worker), "REDIS_URL")).to.equal(
        "rediss://sync.abc123.euc1.cache.amazonaws.com:6379/0",
      );
      expect(envValue(container(worker), "REDIS_PASSWORD_FILE")).to.match(/\/redis\/auth-token$/);
      const secretNames = worker.spec.template.spec.volumes.map(
        (v: { secret?: { secretName: string } }) => v.secret?.secretName,
      );
      expect(secretNames).to.include("elasticache-auth");
    });
  });

  describe("secrets", () => {
    it("gives the webhook only the Stripe signing secret and the worker the Salesforce and Stripe API credentials, as files", () => {
      const objects = render(helm, chart.dir, [values("default")]);
      const webhook = container(findOne(objects, "Deployment", "-webhook"));
      const worker = container(findOne(objects, "Deployment", "-worker"));
      const fileVariables = (c: K8sObject) =>
        (c.env as { name: string }[])
          .map((e) => e.name)
          .filter((name) => name.endsWith("_FILE"))
          .sort();
      expect(fileVariables(webhook)).to.deep.equal(["STRIPE_WEBHOOK_SECRET_FILE"]);
      expect(fileVariables(worker)).to.deep.equal([
        "REDIS_PASSWORD_FILE",
        "SALESFORCE_CLIENT_ID_FILE",
        "SALESFORCE_CLIENT_SECRET_FILE",
        "STRIPE_API_KEY_FILE",
      ]);
      expect(envValue(webhook, "STRIPE_WEBHOOK_SECRET_FILE")).to.equal(
        "/var/run/secrets/stripe-salesforce-sync/stripe/webhook-secret",
      );
    });

    it("mounts the JWT private key for the jwt flow and annotates the ServiceAccount for IRSA", () => {
      const objects = render(helm, chart.dir, [values("irsa")]);
      const worker = findOne(objects, "Deployment", "-worker");
      const c = container(worker);
      expect(envValue(c, "SALESFORCE_AUTH_FLOW")).to.equal("jwt");
      expect(envValue(c, "SALESFORCE_USERNAME")).to.equal("integration@example.com");
      expect(envValue(c, "SALESFORCE_PRIVATE_KEY_FILE")).to.equal(
        "/var/run/secrets/stripe-salesforce-sync/salesforce/private-key.pem",
      );
      expect(envValue(c, "SALESFORCE_CLIENT_SECRET_FILE")).to.equal(undefined);
      const account = findOne(objects, "ServiceAccount");
      expect(account.metadata.annotations).to.deep.equal({
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/stripe-salesforce-sync",
      });
      expect(worker.spec.template.spec.serviceAccountName).to.equal(account.metadata.name);
      expect(findOne(objects, "TriggerAuthentication").spec.podIdentity).to.deep.equal({
        provider: "aws",
        roleArn: "arn:aws:iam::123456789012:role/keda-stripe-events-reader",
      });
    });

    it("reads static AWS keys from an existing Secret for both the app and KEDA", () => {
      const objects = render(helm, chart.dir, [values("secret-trigger-auth")]);
      const auth = findOne(objects, "TriggerAuthentication");
      expect(auth.spec.secretTargetRef).to.deep.equal([
        { parameter: "awsAccessKeyID", name: "aws-sqs-credentials", key: "AWS_ACCESS_KEY_ID" },
        { parameter: "awsSecretAccessKey", name: "aws-sqs-credentials", key: "AWS_SECRET_ACCESS_KEY" },
      ]);
      for (const component of ["webhook", "worker"]) {
        const env = container(findOne(objects, "Deployment", `-${component}`)).env;
        const accessKey = env.find((e: { name: string }) => e.name === "AWS_ACCESS_KEY_ID");
        expect(accessKey.valueFrom.secretKeyRef).to.deep.equal({
          name: "aws-sqs-credentials",
          key: "AWS_ACCESS_KEY_ID",
        });
      }
    });
  });
});

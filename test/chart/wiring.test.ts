import { expect } from "chai";
import { join } from "node:path";
import {
  ciValuesDir,
  envValue,
  findOne,
  release,
  render,
  type K8sObject,
  useRenderableChart,
} from "./support/helm.js";

const values = (name: string) => join(ciValuesDir, `${name}-values.yaml`);
const container = (deployment: K8sObject) => deployment.spec.template.spec.containers[0];

describe("the Helm chart's wiring", function () {
  const chart = useRenderableChart();

  describe("with KEDA", () => {
    let objects: K8sObject[];
    before(() => {
      objects = render(chart.helm, chart.dir, [values("keda-on")]);
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

    it("lets KEDA own the worker's replicas, down to zero when asked (keda-on opts in)", () => {
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
      objects = render(chart.helm, chart.dir, [values("default")]);
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
      const objects = render(chart.helm, chart.dir, [values("ingress-tls")]);
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
      expect(
        render(chart.helm, chart.dir, [values("default")]).filter((o) => o.kind === "Ingress"),
      ).to.deep.equal([]);
    });
  });

  describe("the worker's shutdown", () => {
    for (const scenario of ["default", "keda-off"]) {
      it(`gives the worker more grace than its drain bound (${scenario})`, () => {
        const worker = findOne(render(chart.helm, chart.dir, [values(scenario)]), "Deployment", "-worker");
        const drain = Number(envValue(container(worker), "WORKER_SHUTDOWN_TIMEOUT_SECONDS"));
        expect(drain).to.be.greaterThan(0);
        expect(worker.spec.template.spec.terminationGracePeriodSeconds).to.be.greaterThan(drain);
      });
    }

    it("derives the grace period from the drain bound when not set", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "worker.shutdownTimeoutSeconds": 50,
      });
      const worker = findOne(objects, "Deployment", "-worker");
      expect(envValue(container(worker), "WORKER_SHUTDOWN_TIMEOUT_SECONDS")).to.equal("50");
      expect(worker.spec.template.spec.terminationGracePeriodSeconds).to.equal(65);
    });
  });

  describe("Node.js options", () => {
    it("caps the webhook's young generation by default and leaves the worker on Node's defaults", () => {
      const objects = render(chart.helm, chart.dir, [values("default")]);
      const webhook = container(findOne(objects, "Deployment", "-webhook"));
      expect(envValue(webhook, "NODE_OPTIONS")).to.equal("--max-semi-space-size=16");
      expect(envValue(container(findOne(objects, "Deployment", "-worker")), "NODE_OPTIONS")).to.equal(
        undefined,
      );
    });

    it("passes each component's own options, and none when emptied", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "webhook.nodeOptions": "",
        "worker.nodeOptions": "--max-old-space-size=384",
      });
      expect(envValue(container(findOne(objects, "Deployment", "-webhook")), "NODE_OPTIONS")).to.equal(
        undefined,
      );
      expect(envValue(container(findOne(objects, "Deployment", "-worker")), "NODE_OPTIONS")).to.equal(
        "--max-old-space-size=384",
      );
    });
  });

  describe("the webhook's shutdown", () => {
    it("passes webhook.drainDelaySeconds as WEB_DRAIN_DELAY_SECONDS and derives a grace period above drain + 10", () => {
      const webhook = findOne(render(chart.helm, chart.dir, [values("default")]), "Deployment", "-webhook");
      expect(envValue(container(webhook), "WEB_DRAIN_DELAY_SECONDS")).to.equal("10");
      expect(webhook.spec.template.spec.terminationGracePeriodSeconds).to.equal(30);
    });

    it("follows a changed drain delay", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], { "webhook.drainDelaySeconds": 25 });
      const webhook = findOne(objects, "Deployment", "-webhook");
      expect(envValue(container(webhook), "WEB_DRAIN_DELAY_SECONDS")).to.equal("25");
      expect(webhook.spec.template.spec.terminationGracePeriodSeconds).to.equal(45);
      // The worker's drain settings are its own.
      expect(
        envValue(container(findOne(objects, "Deployment", "-worker")), "WEB_DRAIN_DELAY_SECONDS"),
      ).to.equal(undefined);
    });

    it("keeps an explicit grace period that exceeds drain + 10", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "webhook.drainDelaySeconds": 10,
        "webhook.terminationGracePeriodSeconds": 21,
      });
      expect(
        findOne(objects, "Deployment", "-webhook").spec.template.spec.terminationGracePeriodSeconds,
      ).to.equal(21);
    });
  });

  describe("one ServiceAccount per component", () => {
    it("runs each component under its own ServiceAccount with its own IRSA role", () => {
      const objects = render(chart.helm, chart.dir, [values("irsa")]);
      const accounts = objects.filter((o) => o.kind === "ServiceAccount");
      expect(accounts.map((a) => a.metadata.name).sort()).to.deep.equal([
        "sync-stripe-salesforce-sync-webhook",
        "sync-stripe-salesforce-sync-worker",
      ]);
      for (const component of ["webhook", "worker"]) {
        const account = findOne(objects, "ServiceAccount", `-${component}`);
        const pod = findOne(objects, "Deployment", `-${component}`).spec.template.spec;
        expect(pod.serviceAccountName).to.equal(account.metadata.name);
        expect(pod.automountServiceAccountToken).to.equal(false);
        expect(account.automountServiceAccountToken).to.equal(false);
        expect(account.metadata.annotations).to.deep.equal({
          "eks.amazonaws.com/role-arn": `arn:aws:iam::123456789012:role/stripe-salesforce-sync-${component}`,
        });
      }
    });

    it("points KEDA's workload identity at the worker's ServiceAccount, not the webhook's", () => {
      const objects = render(chart.helm, chart.dir, [values("irsa")], {
        "keda.triggerAuthentication.podIdentity.roleArn": "",
      });
      const auth = findOne(objects, "TriggerAuthentication", "-worker");
      expect(auth.spec.podIdentity).to.deep.equal({ provider: "aws", identityOwner: "workload" });
      // identityOwner: workload uses the ServiceAccount of the Deployment the ScaledObject scales.
      const target = findOne(objects, "ScaledObject", "-worker").spec.scaleTargetRef.name;
      const targetPod = objects.find((o) => o.kind === "Deployment" && o.metadata.name === target)!.spec
        .template.spec;
      const account = findOne(objects, "ServiceAccount", "-worker");
      expect(targetPod.serviceAccountName).to.equal(account.metadata.name);
      expect(account.metadata.annotations?.["eks.amazonaws.com/role-arn"]).to.match(/-worker$/);
    });

    it("uses named existing ServiceAccounts when create is false", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "webhook.serviceAccount": { create: false, name: "hooks" },
        "worker.serviceAccount": { create: false, name: "" },
      });
      expect(objects.filter((o) => o.kind === "ServiceAccount")).to.deep.equal([]);
      expect(findOne(objects, "Deployment", "-webhook").spec.template.spec.serviceAccountName).to.equal(
        "hooks",
      );
      expect(findOne(objects, "Deployment", "-worker").spec.template.spec.serviceAccountName).to.equal(
        "default",
      );
    });

    it("renders no ServiceAccount for a disabled component", () => {
      const objects = render(chart.helm, chart.dir, [values("eventbridge")]);
      expect(objects.filter((o) => o.kind === "ServiceAccount").map((a) => a.metadata.name)).to.deep.equal([
        "sync-stripe-salesforce-sync-worker",
      ]);
    });
  });

  describe("events through Amazon EventBridge, without the webhook", () => {
    let objects: K8sObject[];
    before(() => {
      objects = render(chart.helm, chart.dir, [values("eventbridge")], {
        "metrics.serviceMonitor.enabled": true,
        "metrics.prometheusRule.enabled": true,
      });
    });

    it("renders nothing of the webhook: no Deployment, Service, Ingress, budget, monitor or alert of it", () => {
      const webhookObjects = objects.filter((o) => /-webhook$/.test(o.metadata.name));
      expect(webhookObjects.map((o) => `${o.kind}/${o.metadata.name}`)).to.deep.equal([]);
      const alerts = objects
        .filter((o) => o.kind === "PrometheusRule")
        .flatMap((o) => o.spec.groups.flatMap((g: { rules: { alert?: string }[] }) => g.rules))
        .map((r: { alert?: string }) => r.alert);
      expect(alerts).to.include("StripeSalesforceSyncDeadLettered");
      expect(alerts).to.not.include("StripeSalesforceSyncSignatureFailures");
      expect(alerts).to.not.include("StripeSalesforceSyncWebhookMetricsAbsent");
    });

    it("tells the worker which destinations and accounts to trust and which mode to write", () => {
      const worker = container(findOne(objects, "Deployment", "-worker"));
      expect(envValue(worker, "EVENTBRIDGE_SOURCES")).to.equal(
        "aws.partner/stripe.com/ed_61SAMPLEdestination",
      );
      expect(envValue(worker, "EVENTBRIDGE_AWS_ACCOUNTS")).to.equal("123456789012");
      expect(envValue(worker, "STRIPE_EVENT_MODE")).to.equal("live");
    });

    it("joins several destinations and accounts with commas, as the app reads them", () => {
      const worker = container(
        findOne(
          render(chart.helm, chart.dir, [values("eventbridge")], {
            "worker.eventBridge.sources": ["aws.partner/stripe.com/ed_a", "aws.partner/stripe.com/ed_b"],
            "worker.eventBridge.awsAccounts": ["123456789012", "210987654321"],
          }),
          "Deployment",
          "-worker",
        ),
      );
      expect(envValue(worker, "EVENTBRIDGE_SOURCES")).to.equal(
        "aws.partner/stripe.com/ed_a,aws.partner/stripe.com/ed_b",
      );
      expect(envValue(worker, "EVENTBRIDGE_AWS_ACCOUNTS")).to.equal("123456789012,210987654321");
    });
  });

  describe("tracing", () => {
    const tracingOn = {
      "tracing.enabled": true,
      "tracing.otlp.endpoint": "http://otel-collector.observability:4318",
    };

    it("sets no OpenTelemetry variable when off (the default)", () => {
      for (const deployment of render(chart.helm, chart.dir, [values("default")]).filter(
        (o) => o.kind === "Deployment",
      )) {
        const names = (container(deployment).env as { name: string }[]).map((e) => e.name);
        expect(
          names.filter((n) => n.startsWith("OTEL_")),
          deployment.metadata.name,
        ).to.deep.equal([]);
      }
    });

    it("points both components at the collector, each named by its Deployment, pod and node", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], tracingOn);
      for (const component of ["webhook", "worker"]) {
        const c = container(findOne(objects, "Deployment", `-${component}`));
        expect(envValue(c, "OTEL_EXPORTER_OTLP_ENDPOINT")).to.equal(
          "http://otel-collector.observability:4318",
        );
        expect(envValue(c, "OTEL_EXPORTER_OTLP_PROTOCOL")).to.equal("http/protobuf");
        expect(envValue(c, "OTEL_TRACES_SAMPLER")).to.equal("parentbased_always_on");
        expect(envValue(c, "OTEL_TRACES_SAMPLER_ARG")).to.equal(undefined);
        const attributes = envValue(c, "OTEL_RESOURCE_ATTRIBUTES")!.split(",");
        expect(attributes).to.include.members([
          "k8s.namespace.name=payments",
          `k8s.deployment.name=sync-stripe-salesforce-sync-${component}`,
          "k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME)",
        ]);
        // Kubernetes expands $(NAME) only from variables defined earlier in the list.
        const names = (c.env as { name: string }[]).map((e) => e.name);
        expect(names.indexOf("OTEL_RESOURCE_ATTRIBUTES_POD_NAME")).to.be.within(
          0,
          names.indexOf("OTEL_RESOURCE_ATTRIBUTES"),
        );
      }
    });

    it("takes the collector's headers from a Secret only, and a sampler with its argument", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        ...tracingOn,
        "tracing.otlp.headersSecret.name": "otlp-credentials",
        "tracing.sampler.type": "parentbased_traceidratio",
        "tracing.sampler.arg": "0.1",
        "tracing.resourceAttributes": { "deployment.environment": "production" },
      });
      const c = container(findOne(objects, "Deployment", "-worker"));
      const headers = (c.env as { name: string; valueFrom?: unknown }[]).find(
        (e) => e.name === "OTEL_EXPORTER_OTLP_HEADERS",
      );
      expect(headers?.valueFrom).to.deep.equal({
        secretKeyRef: { name: "otlp-credentials", key: "otlp-headers" },
      });
      expect(envValue(c, "OTEL_TRACES_SAMPLER_ARG")).to.equal("0.1");
      expect(envValue(c, "OTEL_RESOURCE_ATTRIBUTES")).to.contain("deployment.environment=production");
    });
  });

  describe("network policies and metrics", () => {
    const peer = (name: string) => ({
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
    });
    const ingressRules = (objects: K8sObject[], component: string) =>
      findOne(objects, "NetworkPolicy", `-${component}`).spec.ingress as {
        ports: { port: string }[];
        from?: unknown[];
      }[];

    it("admits the ingress controller and Prometheus (networkPolicy.metricsFrom) to the webhook's metrics port", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "networkPolicy.enabled": true,
        "networkPolicy.webhookFrom": [peer("ingress-nginx")],
        "metrics.serviceMonitor.enabled": true,
      });
      // The ServiceMonitor scrapes the Service port named http, which targets the container port http.
      const monitor = findOne(objects, "ServiceMonitor", "-webhook");
      expect(monitor.spec.endpoints[0]).to.include({ port: "http", path: "/metrics" });
      expect(findOne(objects, "Service", "-webhook").spec.ports[0]).to.include({
        name: "http",
        targetPort: "http",
      });
      const rules = ingressRules(objects, "webhook");
      for (const rule of rules) expect(rule.ports).to.deep.equal([{ port: "http", protocol: "TCP" }]);
      expect(rules.map((r) => r.from)).to.deep.equal([[peer("ingress-nginx")], [peer("monitoring")]]);
    });

    it("admits Prometheus and workerFrom to the worker's metrics port", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "networkPolicy.enabled": true,
        "networkPolicy.workerFrom": [peer("debug")],
      });
      expect(ingressRules(objects, "worker")).to.deep.equal([
        { ports: [{ port: "http", protocol: "TCP" }], from: [peer("debug"), peer("monitoring")] },
      ]);
    });

    it("follows networkPolicy.metricsFrom, with namespace and pod selectors", () => {
      const prometheus = {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
        podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
      };
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "networkPolicy.enabled": true,
        "networkPolicy.webhookFrom": [peer("ingress-nginx")],
        "networkPolicy.metricsFrom": [prometheus],
      });
      expect(ingressRules(objects, "webhook").map((r) => r.from)).to.deep.equal([
        [peer("ingress-nginx")],
        [prometheus],
      ]);
      expect(ingressRules(objects, "worker").map((r) => r.from)).to.deep.equal([[prometheus]]);
    });

    it("adds no metrics rule when metricsFrom is empty, and allows all to the worker when both lists are", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "networkPolicy.enabled": true,
        "networkPolicy.webhookFrom": [peer("ingress-nginx")],
        "networkPolicy.metricsFrom": [],
      });
      expect(ingressRules(objects, "webhook").map((r) => r.from)).to.deep.equal([[peer("ingress-nginx")]]);
      expect(ingressRules(objects, "worker")).to.deep.equal([{ ports: [{ port: "http", protocol: "TCP" }] }]);
    });

    describe("target alerts", () => {
      const rulesOf = (objects: K8sObject[]) =>
        findOne(objects, "PrometheusRule").spec.groups.flatMap(
          (g: { rules: { alert: string; expr: string }[] }) => g.rules,
        ) as { alert: string; expr: string; labels: Record<string, string> }[];
      const alertNames = (objects: K8sObject[]) => rulesOf(objects).map((r) => r.alert);

      it("alerts when a webhook or worker target is down, on the ServiceMonitor jobs, and when a component has no scraped pod", () => {
        const objects = render(chart.helm, chart.dir, [values("keda-on")]);
        const webhookService = findOne(objects, "Service", "-webhook").metadata.name;
        const workerService = findOne(objects, "Service", "-worker").metadata.name;
        // Without spec.jobLabel the Prometheus operator sets job to the Service name.
        for (const component of ["webhook", "worker"]) {
          expect(findOne(objects, "ServiceMonitor", `-${component}`).spec).to.not.have.property("jobLabel");
        }
        const rules = rulesOf(objects);
        const exprOf = (alert: string) => rules.find((r) => r.alert === alert)?.expr;
        expect(exprOf("StripeSalesforceSyncTargetDown")).to.equal(
          `up{namespace="${release.namespace}", job=~"${webhookService}|${workerService}"} == 0`,
        );
        // Absence is judged on the pods' own series, which exist however Prometheus scrapes them.
        expect(exprOf("StripeSalesforceSyncWebhookMetricsAbsent")).to.equal(
          `absent(process_start_time_seconds{namespace="${release.namespace}", pod=~"${webhookService}-.+"})`,
        );
        // keda-on scales the worker to zero: no worker target is then expected, so no absence alert.
        expect(alertNames(objects)).to.not.include("StripeSalesforceSyncWorkerMetricsAbsent");
      });

      it("alerts on an absent worker when the worker cannot scale to zero (the default)", () => {
        const objects = render(chart.helm, chart.dir, [values("keda-on")], {
          "worker.autoscaling.minReplicaCount": 1,
        });
        const workerService = findOne(objects, "Service", "-worker").metadata.name;
        const rule = rulesOf(objects).find((r) => r.alert === "StripeSalesforceSyncWorkerMetricsAbsent");
        expect(rule?.expr).to.equal(
          `absent(process_start_time_seconds{namespace="${release.namespace}", pod=~"${workerService}-.+"})`,
        );
        expect(rule?.labels.severity).to.equal("critical");
        const fixed = render(chart.helm, chart.dir, [values("keda-on")], {
          "keda.enabled": false,
          "worker.autoscaling.enabled": false,
        });
        expect(alertNames(fixed)).to.include("StripeSalesforceSyncWorkerMetricsAbsent");
        const idle = render(chart.helm, chart.dir, [values("keda-on")], {
          "worker.autoscaling.minReplicaCount": 1,
          "worker.autoscaling.idleReplicaCount": 0,
        });
        expect(alertNames(idle)).to.not.include("StripeSalesforceSyncWorkerMetricsAbsent");
      });

      it("keeps the absence alerts without the chart's ServiceMonitors, and drops only the job-based target alert", () => {
        const objects = render(chart.helm, chart.dir, [values("keda-on")], {
          "metrics.serviceMonitor.enabled": false,
          "worker.autoscaling.minReplicaCount": 1,
        });
        const names = alertNames(objects);
        expect(names).to.not.include("StripeSalesforceSyncTargetDown");
        expect(names).to.include.members([
          "StripeSalesforceSyncWebhookMetricsAbsent",
          "StripeSalesforceSyncWorkerMetricsAbsent",
        ]);
      });
    });
  });

  describe("without KEDA", () => {
    it("runs worker.replicaCount workers and renders no KEDA object", () => {
      const objects = render(chart.helm, chart.dir, [values("keda-off")]);
      expect(findOne(objects, "Deployment", "-worker").spec.replicas).to.equal(3);
      expect(objects.filter((o) => o.apiVersion.startsWith("keda.sh/"))).to.deep.equal([]);
    });
  });

  describe("Redis", () => {
    it("points the worker at this release's bundled master service and its generated password Secret", () => {
      const objects = render(chart.helm, chart.dir, [values("default")]);
      const worker = findOne(objects, "Deployment", "-worker");
      const c = container(worker);
      // The Bitnami chart names its objects <release>-redis: Service <name>-master, Secret <name>.
      expect(envValue(c, "REDIS_URL")).to.equal(
        `redis://${release.name}-redis-master.${release.namespace}.svc.cluster.local:6379/0`,
      );
      const passwordFile = envValue(c, "REDIS_PASSWORD_FILE")!;
      const mount = c.volumeMounts.find((m: { mountPath: string }) =>
        passwordFile.startsWith(`${m.mountPath}/`),
      );
      const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
      expect(volume.secret.secretName).to.equal(`${release.name}-redis`);
      expect(volume.secret.items).to.deep.equal([
        { key: "redis-password", path: passwordFile.split("/").pop() },
      ]);
    });

    it("follows redis.fullnameOverride and an existing password Secret", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
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
      const objects = render(chart.helm, chart.dir, [values("external-redis")]);
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
      // The Stripe API key is optional (secrets.stripe.apiKeyKey empty by default); enabled here.
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "secrets.stripe.apiKeyKey": "api-key",
      });
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

    it("needs no Stripe API key by default: no STRIPE_API_KEY_FILE and no Stripe Secret item on the worker", () => {
      const objects = render(chart.helm, chart.dir, [values("default")]);
      const worker = findOne(objects, "Deployment", "-worker");
      expect(envValue(container(worker), "STRIPE_API_KEY_FILE")).to.equal(undefined);
      const secretItems = worker.spec.template.spec.volumes.flatMap(
        (v: { secret?: { secretName: string; items: { key: string }[] } }) =>
          v.secret ? v.secret.items.map((i) => `${v.secret!.secretName}/${i.key}`) : [],
      );
      // A Secret item that does not exist keeps the pod in ContainerCreating: none may name api-key.
      expect(secretItems.filter((item: string) => item.startsWith("stripe-credentials/"))).to.deep.equal([]);
      expect(secretItems.filter((item: string) => item.endsWith("/api-key"))).to.deep.equal([]);
    });

    it("mounts the Stripe API key under the configured key name when secrets.stripe.apiKeyKey is set", () => {
      const objects = render(chart.helm, chart.dir, [values("default")], {
        "secrets.stripe.apiKeyKey": "rk",
      });
      const worker = findOne(objects, "Deployment", "-worker");
      const file = envValue(container(worker), "STRIPE_API_KEY_FILE")!;
      expect(file).to.equal("/var/run/secrets/stripe-salesforce-sync/stripe/rk");
      const mount = container(worker).volumeMounts.find((m: { mountPath: string }) =>
        file.startsWith(`${m.mountPath}/`),
      );
      const volume = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === mount.name);
      expect(volume.secret.secretName).to.equal("stripe-credentials");
      expect(volume.secret.items).to.deep.equal([{ key: "rk", path: "rk" }]);
    });

    it("stores and mounts the Stripe API key of the development Secret only when apiKeyKey names it", () => {
      const withKey = render(chart.helm, chart.dir, [values("dev-secrets")]);
      const secret = findOne(withKey, "Secret", "-dev-secrets");
      expect(secret.stringData).to.include({ "api-key": "sk_test_ci_only" });
      const worker = findOne(withKey, "Deployment", "-worker");
      expect(envValue(container(worker), "STRIPE_API_KEY_FILE")).to.match(/\/stripe\/api-key$/);
      const stripeVolume = worker.spec.template.spec.volumes.find(
        (v: { name: string; secret?: { secretName: string } }) =>
          v.name === "stripe-secrets" && v.secret?.secretName === secret.metadata.name,
      );
      expect(stripeVolume.secret.items).to.deep.equal([{ key: "api-key", path: "api-key" }]);

      const withoutKey = render(chart.helm, chart.dir, [values("dev-secrets")], {
        "secrets.stripe.apiKeyKey": "",
        "secrets.values.stripeApiKey": "",
      });
      expect(findOne(withoutKey, "Secret", "-dev-secrets").stringData).to.not.have.property("api-key");
      const bare = container(findOne(withoutKey, "Deployment", "-worker"));
      expect(envValue(bare, "STRIPE_API_KEY_FILE")).to.equal(undefined);
    });

    it("mounts the JWT private key for the jwt flow and annotates the worker's ServiceAccount for IRSA", () => {
      const objects = render(chart.helm, chart.dir, [values("irsa")]);
      const worker = findOne(objects, "Deployment", "-worker");
      const c = container(worker);
      expect(envValue(c, "SALESFORCE_AUTH_FLOW")).to.equal("jwt");
      expect(envValue(c, "SALESFORCE_USERNAME")).to.equal("integration@example.com");
      expect(envValue(c, "SALESFORCE_PRIVATE_KEY_FILE")).to.equal(
        "/var/run/secrets/stripe-salesforce-sync/salesforce/private-key.pem",
      );
      expect(envValue(c, "SALESFORCE_CLIENT_SECRET_FILE")).to.equal(undefined);
      const account = findOne(objects, "ServiceAccount", "-worker");
      expect(account.metadata.annotations).to.deep.equal({
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/stripe-salesforce-sync-worker",
      });
      expect(worker.spec.template.spec.serviceAccountName).to.equal(account.metadata.name);
      expect(findOne(objects, "TriggerAuthentication").spec.podIdentity).to.deep.equal({
        provider: "aws",
        roleArn: "arn:aws:iam::123456789012:role/keda-stripe-events-reader",
      });
    });

    it("reads static AWS keys from an existing Secret for both the app and KEDA", () => {
      const objects = render(chart.helm, chart.dir, [values("secret-trigger-auth")]);
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

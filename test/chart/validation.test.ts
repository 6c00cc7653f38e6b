import { expect } from "chai";
import { join } from "node:path";
import { ciValuesDir, template, type Overrides, useRenderableChart } from "./support/helm.js";

/** Contradictory or incomplete settings, each with the words its error must contain. */
const rejected: { what: string; base?: string; set: Overrides; message: RegExp }[] = [
  {
    what: "the bundled Redis and an external Redis at once",
    set: { "externalRedis.url": "redis://elsewhere:6379/0" },
    message: /redis\.enabled and externalRedis\.url are both set/,
  },
  {
    what: "EventBridge sources without the AWS accounts of the bus",
    set: { "worker.eventBridge.sources": ["aws.partner/stripe.com/ed_1"] },
    message: /worker\.eventBridge\.sources needs worker\.eventBridge\.awsAccounts/,
  },
  {
    what: "EventBridge AWS accounts without sources",
    set: { "worker.eventBridge.awsAccounts": ["123456789012"] },
    message: /worker\.eventBridge\.awsAccounts needs worker\.eventBridge\.sources/,
  },
  {
    what: "an EventBridge source that is not a Stripe event destination",
    set: {
      "worker.eventBridge.sources": ["aws.partner/example.com/x"],
      "worker.eventBridge.awsAccounts": ["123456789012"],
    },
    message: /sources/,
  },
  {
    what: "no webhook and no EventBridge source: nothing feeds the queue",
    set: { "webhook.enabled": false },
    message: /nothing would put Stripe events on the queue/,
  },
  {
    what: "NODE_OPTIONS that are not a list of --flags (a shell fragment, a stray word)",
    set: { "webhook.nodeOptions": "--max-semi-space-size=16; rm -rf /" },
    message: /nodeOptions/,
  },
  {
    what: "an unknown event mode",
    set: { "config.stripe.eventMode": "sandbox" },
    message: /eventMode/,
  },
  {
    what: "tracing without a collector endpoint",
    set: { "tracing.enabled": true },
    message: /tracing\.enabled needs tracing\.otlp\.endpoint/,
  },
  {
    what: "no Redis at all",
    set: { "redis.enabled": false },
    message: /no Redis configured/,
  },
  {
    what: "a password inside externalRedis.url",
    set: { "redis.enabled": false, "externalRedis.url": "redis://:hunter2@elsewhere:6379/0" },
    message: /externalRedis\.url carries a password/,
  },
  {
    what: "KEDA on with worker autoscaling off",
    set: { "keda.enabled": true, "worker.autoscaling.enabled": false },
    message: /keda\.enabled=true conflicts with worker\.autoscaling\.enabled=false/,
  },
  {
    what: "worker autoscaling on without KEDA",
    set: { "keda.enabled": false, "worker.autoscaling.enabled": true },
    message: /worker\.autoscaling\.enabled=true needs keda\.enabled=true/,
  },
  {
    what: "a worker grace period equal to its drain bound",
    set: { "worker.shutdownTimeoutSeconds": 30, "worker.terminationGracePeriodSeconds": 30 },
    message:
      /worker\.terminationGracePeriodSeconds \(30\) must be above worker\.shutdownTimeoutSeconds \(30\)/,
  },
  {
    what: "a worker grace period below its drain bound",
    set: { "worker.shutdownTimeoutSeconds": 40, "worker.terminationGracePeriodSeconds": 20 },
    message: /must be above worker\.shutdownTimeoutSeconds/,
  },
  {
    what: "a webhook grace period not above its drain delay plus 10 seconds",
    set: { "webhook.drainDelaySeconds": 10, "webhook.terminationGracePeriodSeconds": 20 },
    message:
      /webhook\.terminationGracePeriodSeconds \(20\) must be above webhook\.drainDelaySeconds \+ 10 \(20\)/,
  },
  {
    what: "a webhook grace period shorter than a raised drain delay",
    set: { "webhook.drainDelaySeconds": 40, "webhook.terminationGracePeriodSeconds": 30 },
    message: /must be above webhook\.drainDelaySeconds \+ 10 \(50\)/,
  },
  {
    what: "a drain delay above what the app accepts",
    set: { "webhook.drainDelaySeconds": 121 },
    message: /drainDelaySeconds/,
  },
  {
    what: "the removed shared serviceAccount values",
    set: { "serviceAccount.annotations": { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/shared" } },
    message:
      /serviceAccount\.\* was replaced by one ServiceAccount per component: .*webhook\.serviceAccount and worker\.serviceAccount/,
  },
  {
    what: "a development Stripe API key without secrets.stripe.apiKeyKey",
    set: {
      "secrets.stripe.existingSecret": "",
      "secrets.salesforce.existingSecret": "",
      "secrets.create": true,
      "secrets.values": { stripeWebhookSecret: "whsec_x", stripeApiKey: "sk_test_x" },
    },
    message: /secrets\.values\.stripeApiKey is set but secrets\.stripe\.apiKeyKey is empty/,
  },
  {
    what: "ingress TLS without hosts",
    set: {
      "webhook.ingress.enabled": true,
      "webhook.ingress.tls": [{ secretName: "tls" }],
    },
    message: /webhook\.ingress\.tls is set but webhook\.ingress\.hosts is empty/,
  },
  {
    what: "secret-based KEDA trigger authentication without a Secret name",
    set: { "keda.triggerAuthentication.type": "secret" },
    message: /keda\.triggerAuthentication\.type=secret needs keda\.triggerAuthentication\.secret\.name/,
  },
  {
    what: "no queue URL",
    set: { "config.sqs.queueUrl": "" },
    message: /config\.sqs\.queueUrl is required/,
  },
  {
    what: "no Stripe Secret",
    set: { "secrets.stripe.existingSecret": "" },
    message: /the webhook needs the Stripe signing secret/,
  },
  {
    what: "the JWT flow without a private key",
    set: { "config.salesforce.authFlow": "jwt", "config.salesforce.username": "u@example.com" },
    message: /authFlow=jwt needs secrets\.salesforce\.privateKeyKey/,
  },
  {
    what: "a drain bound above the visibility timeout",
    set: { "worker.shutdownTimeoutSeconds": 120, "worker.visibilityTimeoutSeconds": 60 },
    message: /worker\.shutdownTimeoutSeconds is above worker\.visibilityTimeoutSeconds/,
  },
  {
    what: "an idle replica count not below the minimum",
    set: { "worker.autoscaling.minReplicaCount": 1, "worker.autoscaling.idleReplicaCount": 1 },
    message:
      /worker\.autoscaling\.idleReplicaCount \(1\) must be below worker\.autoscaling\.minReplicaCount \(1\)/,
  },
  {
    what: "fallback replicas above the maximum",
    set: { "worker.autoscaling.maxReplicaCount": 3, "worker.autoscaling.fallback.replicas": 5 },
    message:
      /worker\.autoscaling\.fallback\.replicas \(5\) is above worker\.autoscaling\.maxReplicaCount \(3\)/,
  },
  {
    what: "a PodDisruptionBudget with both minAvailable and maxUnavailable",
    set: { "webhook.podDisruptionBudget.minAvailable": 1 },
    message: /webhook\.podDisruptionBudget sets both minAvailable and maxUnavailable/,
  },
  {
    what: "a PodDisruptionBudget that would block every drain of a single webhook",
    set: {
      "webhook.replicaCount": 1,
      "webhook.podDisruptionBudget.minAvailable": 1,
      "webhook.podDisruptionBudget.maxUnavailable": null,
    },
    message:
      /webhook\.podDisruptionBudget\.minAvailable \(1\) is not below the webhook's fewest replicas \(1\)/,
  },
  {
    what: "a Redis cluster domain that differs from clusterDomain",
    set: { clusterDomain: "corp.internal" },
    message: /redis\.clusterDomain \(cluster\.local\) differs from clusterDomain \(corp\.internal\)/,
  },
  {
    what: "the bitnamilegacy image without allowInsecureImages",
    set: { "global.security.allowInsecureImages": false },
    message: /redis\.image\.repository=bitnamilegacy\/redis needs global\.security\.allowInsecureImages=true/,
  },
  {
    what: "a Redis without maxmemory",
    set: { "redis.commonConfiguration": "maxmemory-policy allkeys-lru" },
    message: /redis\.commonConfiguration sets no maxmemory/,
  },
  {
    what: "a maxmemory at the container's memory limit",
    set: { "redis.commonConfiguration": "maxmemory 512mb\nmaxmemory-policy allkeys-lru" },
    message:
      /maxmemory 512mb in redis\.commonConfiguration is 100% of redis\.master\.resources\.limits\.memory \(512Mi\)/,
  },
  {
    what: "a Redis that refuses writes when full",
    set: { "redis.commonConfiguration": "maxmemory 410mb\nmaxmemory-policy noeviction" },
    message: /maxmemory-policy other than noeviction/,
  },
  {
    what: "a /tmp size limit that is not a quantity",
    set: { tmpSizeLimit: "banana" },
    message: /tmpSizeLimit/,
  },
  {
    what: "a values key the schema does not know",
    set: { "worker.replicas": 3 },
    message: /at '\/worker': additional properties 'replicas' not allowed/,
  },
];

describe("the Helm chart's validation", function () {
  const chart = useRenderableChart();
  const defaults = join(ciValuesDir, "default-values.yaml");

  it("accepts the default scenario (the baseline every rejection below changes one thing in)", () => {
    const result = template(chart.helm, chart.dir, [defaults]);
    expect(result.status, result.stderr).to.equal(0);
  });

  for (const { what, set, message } of rejected) {
    it(`rejects ${what}`, () => {
      const result = template(chart.helm, chart.dir, [defaults], set);
      expect(result.status, "helm template must fail").to.not.equal(0);
      expect(result.stderr).to.match(message);
    });
  }
});

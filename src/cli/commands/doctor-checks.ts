import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { keyMode } from "../../data-access/stripe/stripe-lists.js";
import { checkMappingAgainstOrg } from "../../domain/sync/check-mapping.js";
import { HANDLED_EVENT_TYPES } from "../../domain/sync/event-handlers.js";
import type { CommandContext } from "../command-context.js";

/** One row of the doctor's table. */
export interface CheckResult {
  check: string;
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  /** How to fix it, when it is not ok. */
  fix?: string;
}

type Check = (context: CommandContext) => Promise<CheckResult[]>;

const ok = (check: string, detail: string): CheckResult => ({ check, status: "ok", detail });
const bad = (status: "warn" | "fail" | "skip", check: string, detail: string, fix?: string): CheckResult => ({
  check,
  status,
  detail,
  ...(fix ? { fix } : {}),
});

/** Eviction policies that keep the service correct: every key it writes has a TTL (README "Operating it"). */
const LRU_LIKE = new Set([
  "allkeys-lru",
  "allkeys-lfu",
  "volatile-lru",
  "volatile-lfu",
  "volatile-ttl",
  "allkeys-random",
  "volatile-random",
]);

/** Node.js: the version the image and package.json's engines name. */
export const checkNode: Check = async () => {
  const major = Number(process.versions.node.split(".")[0]);
  return [
    major === 24
      ? ok("node", `Node ${process.version}`)
      : bad("fail", "node", `Node ${process.version}`, "run on Node.js 24 (package.json engines)"),
  ];
};

/** Salesforce: login, the daily API allowance, the mapped objects as the integration user sees them. */
export const checkSalesforce: Check = async (context) => {
  const salesforce = context.salesforce();
  const results: CheckResult[] = [];
  try {
    const { orgId, userId } = await salesforce.identity();
    results.push(
      ok("salesforce login", `org ${orgId}, user ${userId} (${context.config.salesforce.authFlow})`),
    );
  } catch (error) {
    return [
      bad(
        "fail",
        "salesforce login",
        (error as Error).message,
        'check SALESFORCE_LOGIN_URL, the auth flow and the connected app\'s credentials (README "Salesforce authentication")',
      ),
    ];
  }
  const usage = await salesforce.apiUsage();
  const share = usage.used / Math.max(1, usage.max);
  const usageDetail = `${usage.used} of ${usage.max} daily API requests used (${Math.round(share * 100)}%)`;
  results.push(
    share >= 0.95
      ? bad(
          "fail",
          "salesforce api usage",
          usageDetail,
          "the worker pauses at the limit: wait for the rolling 24 h window or raise the org's allowance",
        )
      : share >= 0.8
        ? bad("warn", "salesforce api usage", usageDetail, "close to the daily limit: hold off backfills")
        : ok("salesforce api usage", usageDetail),
  );
  const check = await checkMappingAgainstOrg(context.mapping(), salesforce);
  results.push(
    check.problems.length > 0
      ? bad(
          "fail",
          "salesforce objects",
          check.problems.join("; "),
          "deploy the metadata (node dist/main.js metadata) or override the mapping (MAPPING_FILE)",
        )
      : ok(
          "salesforce objects",
          "every mapped object and field exists, is writable and the External IDs are External IDs",
        ),
  );
  if (check.missingOptional.length > 0)
    results.push(
      bad(
        "warn",
        "salesforce optional fields",
        `the org lacks ${check.missingOptional.join(", ")}`,
        "Connect events land without them; add the fields to keep the account id",
      ),
    );
  return results;
};

/** The queue: reachable, timeouts against the worker's settings, the redrive policy and the dead-letter queue, retention. */
export const checkQueue: Check = async (context) => {
  const { sqs, queueUrl } = context.queue();
  const attributesOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))).Attributes ??
    {};
  let main: Record<string, string>;
  try {
    main = await attributesOf(queueUrl);
  } catch (error) {
    return [
      bad(
        "fail",
        "queue",
        `${queueUrl}: ${(error as Error).message}`,
        "check SQS_QUEUE_URL, AWS_REGION and the role's sqs:GetQueueAttributes permission",
      ),
    ];
  }
  const worker = context.config.worker;
  const results = [
    ok(
      "queue",
      `${queueUrl}: ${main.ApproximateNumberOfMessages ?? "?"} waiting, ${main.ApproximateNumberOfMessagesNotVisible ?? "?"} in flight`,
    ),
  ];
  const visibility = Number(main.VisibilityTimeout);
  results.push(
    visibility < worker.visibilityTimeoutSeconds
      ? bad(
          "warn",
          "queue visibility timeout",
          `the queue's default is ${visibility} s, the worker asks ${worker.visibilityTimeoutSeconds} s per receive`,
          "the worker sets its own on each receive; set the queue's to WORKER_VISIBILITY_TIMEOUT_SECONDS so other consumers behave alike",
        )
      : ok(
          "queue visibility timeout",
          `queue ${visibility} s; worker ${worker.visibilityTimeoutSeconds} s per receive, extended every half`,
        ),
  );
  const policy = main.RedrivePolicy
    ? (JSON.parse(main.RedrivePolicy) as { maxReceiveCount?: number | string; deadLetterTargetArn?: string })
    : undefined;
  const receives = Number(policy?.maxReceiveCount);
  if (!policy)
    results.push(
      bad(
        context.config.sqs.dlqUrl ? "warn" : "fail",
        "queue redrive policy",
        "none",
        'add a RedrivePolicy with maxReceiveCount 50 and a dead-letter queue (README "The worker path")',
      ),
    );
  else if (receives < 20)
    results.push(
      bad(
        "warn",
        "queue redrive policy",
        `maxReceiveCount ${receives}: about ${receives} retries before a transient failure is parked`,
        "raise maxReceiveCount to 50 (the worker dead-letters permanent failures itself)",
      ),
    );
  else
    results.push(
      ok("queue redrive policy", `maxReceiveCount ${receives} to ${policy.deadLetterTargetArn ?? "?"}`),
    );
  const retention = Number(main.MessageRetentionPeriod);
  results.push(
    retention < 4 * 86400
      ? bad(
          "warn",
          "queue retention",
          `${Math.round(retention / 3600)} h`,
          "keep messages 4 days or more: Stripe's own retries span 3 days",
        )
      : ok("queue retention", `${Math.round(retention / 86400)} days`),
  );
  try {
    const dlqUrl = await context.dlqUrl();
    const dlq = await attributesOf(dlqUrl);
    const waiting = Number(dlq.ApproximateNumberOfMessages ?? 0);
    results.push(
      waiting > 0
        ? bad(
            "warn",
            "dead-letter queue",
            `${dlqUrl}: ${waiting} dead letters`,
            "see them with dlq list; after fixing the cause, dlq redrive",
          )
        : ok("dead-letter queue", `${dlqUrl}: empty`),
    );
    const dlqRetention = Number(dlq.MessageRetentionPeriod);
    if (dlqRetention < retention)
      results.push(
        bad(
          "warn",
          "dead-letter queue retention",
          `${Math.round(dlqRetention / 86400)} days, shorter than the queue's ${Math.round(retention / 86400)}`,
          "give the dead-letter queue the longest retention (14 days): a message keeps its original enqueue time",
        ),
      );
  } catch (error) {
    results.push(
      bad("fail", "dead-letter queue", (error as Error).message, "set SQS_DLQ_URL or a RedrivePolicy"),
    );
  }
  return results;
};

/** Redis: reachable, and an eviction policy under which the store stays a correct cache. */
export const checkRedis: Check = async (context) => {
  const redis = context.redis();
  if (!redis)
    return [
      context.config.isLocal
        ? bad("skip", "redis", "not configured: local mode keeps the sync state in the worker's memory")
        : bad("fail", "redis", "REDIS_URL is not set", "set REDIS_URL (or REDIS_HOST)"),
    ];
  let info: string;
  try {
    await redis.ping();
    info = await redis.info("memory");
  } catch (error) {
    return [
      bad("fail", "redis", (error as Error).message, "check REDIS_URL, REDIS_PASSWORD and the network path"),
    ];
  }
  const read = (name: string) => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
  const policy = read("maxmemory_policy") ?? "unknown";
  const maxmemory = Number(read("maxmemory") ?? 0);
  const results = [ok("redis", `reachable, ${read("used_memory_human") ?? "?"} used`)];
  if (policy === "allkeys-lru")
    results.push(
      ok(
        "redis eviction policy",
        "allkeys-lru, as the README prescribes (every key has a TTL; Redis is a cache of the org)",
      ),
    );
  else if (policy === "noeviction")
    results.push(
      ok(
        "redis eviction policy",
        "noeviction: acceptable (a full Redis refuses writes and the worker retries); the README prescribes allkeys-lru",
      ),
    );
  else if (LRU_LIKE.has(policy))
    results.push(
      bad(
        "warn",
        "redis eviction policy",
        `${policy}: works, every key has a TTL`,
        "the README prescribes maxmemory-policy allkeys-lru",
      ),
    );
  else
    results.push(
      bad(
        "warn",
        "redis eviction policy",
        policy,
        'set maxmemory-policy allkeys-lru (README "Operating it")',
      ),
    );
  results.push(
    maxmemory === 0
      ? bad(
          "warn",
          "redis maxmemory",
          "no limit: Redis grows until its container is killed",
          "set maxmemory to about 80% of Redis's memory limit (the chart sets 410mb of 512Mi)",
        )
      : ok("redis maxmemory", `${Math.round(maxmemory / 2 ** 20)} MiB`),
  );
  return results;
};

/** Stripe: the key's mode, and the webhook endpoints' enabled events against the handled types. */
export const checkStripe: Check = async (context) => {
  const key = context.config.stripe.apiKey;
  if (!key)
    return [
      bad("skip", "stripe key", "STRIPE_API_KEY not set: no re-reads, no replay, backfill or reconcile"),
    ];
  const mode = keyMode(key);
  const results: CheckResult[] = [];
  if (!mode)
    results.push(
      bad(
        "fail",
        "stripe key",
        "not a Stripe secret or restricted key (sk_/rk_)",
        "set STRIPE_API_KEY to an sk_ or rk_ key",
      ),
    );
  else if (!context.config.isLocal && mode === "test")
    results.push(
      bad("warn", "stripe key", "a test-mode key with NODE_ENV=production", "use the live key in production"),
    );
  else results.push(ok("stripe key", `${key.startsWith("rk_") ? "restricted" : "secret"} key, ${mode} mode`));
  let endpoints: Record<string, unknown>[];
  try {
    endpoints = (await context.stripe().page("webhook_endpoints", { limit: 100 })).data;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    return [
      ...results,
      status === 403 || status === 401
        ? bad("skip", "stripe webhook endpoints", "the key may not read webhook endpoints")
        : bad("fail", "stripe api", (error as Error).message, "check the key and STRIPE_API_BASE"),
    ];
  }
  const enabled = endpoints.filter((endpoint) => endpoint.status !== "disabled");
  if (enabled.length === 0)
    return [
      ...results,
      bad(
        "warn",
        "stripe webhook endpoints",
        `no enabled endpoint in ${mode} mode`,
        "register https://<host>/webhook/stripe in the Stripe dashboard",
      ),
    ];
  for (const endpoint of enabled) {
    const events = (endpoint.enabled_events as string[] | undefined) ?? [];
    const missing = events.includes("*")
      ? []
      : [...HANDLED_EVENT_TYPES].filter((type) => !events.includes(type));
    const extra = events.filter((type) => type !== "*" && !HANDLED_EVENT_TYPES.has(type));
    const name = `stripe endpoint ${String(endpoint.url)}`;
    if (missing.length > 0)
      results.push(
        bad(
          "warn",
          name,
          `not sent: ${missing.join(", ")}`,
          "enable these events on the endpoint (customer.deleted is optional)",
        ),
      );
    else
      results.push(
        ok(
          name,
          events.includes("*")
            ? "all events (the ones not handled are acknowledged and ignored)"
            : "every handled event type is enabled",
        ),
      );
    if (extra.length > 0)
      results.push(
        bad(
          "warn",
          `${name} extra`,
          `sent but not handled: ${extra.join(", ")}`,
          "disable them: each costs a webhook the service only acknowledges",
        ),
      );
  }
  return results;
};

/** Every check, in the table's order; a check that throws becomes a failed row. */
export const DOCTOR_CHECKS: [string, Check][] = [
  ["node", checkNode],
  ["salesforce", checkSalesforce],
  ["queue", checkQueue],
  ["redis", checkRedis],
  ["stripe", checkStripe],
];

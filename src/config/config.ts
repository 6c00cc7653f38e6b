import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "../shared/errors.js";
import { resolveSecretFiles } from "./read-secret-files.js";

/** Which part of the program runs: the webhook server, the queue consumer, or both (local use). */
export type Role = "web" | "worker" | "all";

/** OAuth 2.0 flows the Salesforce client can use. */
export type SalesforceAuthFlow = "client_credentials" | "jwt" | "password";

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === "" ? undefined : value));
const optionalUrl = optionalString.pipe(z.url().optional());
/** A comma-separated list, each entry trimmed, empty ones dropped, each checked by `item`. */
const commaList = (item: z.ZodString) =>
  optionalString
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ""),
    )
    .pipe(z.array(item));
const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

/** The environment as the program reads it: names are the variables' own names. */
const environmentSchema = z.object({
  // An enum, so a typo ("prod") stops start-up instead of silently turning on the local fallbacks.
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["error", "warn", "info", "http", "verbose", "debug", "silly"]).default("info"),
  PORT: port(8000),
  WORKER_PORT: port(8001),
  STRIPE_WEBHOOK_SECRET: optionalString,
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: positiveInt(300),
  WEBHOOK_BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  WEB_DRAIN_DELAY_SECONDS: z.coerce.number().int().min(0).max(120).default(0),
  ENQUEUE_BATCH_WINDOW_MS: z.coerce.number().min(0).max(50).default(0),
  STRIPE_API_KEY: optionalString,
  STRIPE_API_BASE: optionalUrl,
  STRIPE_READS_PER_SECOND: z.coerce.number().positive().max(1000).optional(),
  STRIPE_EVENT_MODE: z.enum(["both", "live", "test"]).default("both"),
  EVENTBRIDGE_SOURCES: commaList(
    z
      .string()
      .regex(
        /^aws\.partner\/stripe\.com\/\S+$/,
        "each entry must be a Stripe event destination's source, aws.partner/stripe.com/<destination id>",
      ),
  ),
  EVENTBRIDGE_AWS_ACCOUNTS: commaList(
    z.string().regex(/^\d{12}$/, "each entry must be a 12-digit AWS account id"),
  ),
  SQS_QUEUE_URL: optionalUrl,
  SQS_DLQ_URL: optionalUrl,
  AWS_REGION: optionalString,
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
      .optional(),
  ),
  REDIS_HOST: optionalString,
  REDIS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  REDIS_PASSWORD: optionalString,
  SALESFORCE_LOGIN_URL: optionalUrl,
  SALESFORCE_INSTANCE_URL: optionalUrl,
  SALESFORCE_AUTH_FLOW: z.enum(["client_credentials", "jwt", "password"]).default("client_credentials"),
  SALESFORCE_CLIENT_ID: optionalString,
  SALESFORCE_CLIENT_SECRET: optionalString,
  SALESFORCE_USERNAME: optionalString,
  SALESFORCE_PASSWORD: optionalString,
  SALESFORCE_SECURITY_TOKEN: optionalString,
  SALESFORCE_PRIVATE_KEY_FILE: optionalString,
  SALESFORCE_DAILY_API_BUDGET: z.coerce.number().int().min(10).optional(),
  SALESFORCE_API_VERSION: z
    .string()
    .regex(/^\d{2,3}\.0$/, "must look like 62.0")
    .refine((v) => Number(v) >= 46, "must be 46.0 or later (sObject Collections upsert)")
    .default("62.0"),
  WORKER_CONCURRENCY: positiveInt(4, 64),
  WORKER_BATCH_SIZE: positiveInt(10, 10),
  WORKER_WAIT_TIME_SECONDS: z.coerce.number().int().min(0).max(20).default(20),
  WORKER_VISIBILITY_TIMEOUT_SECONDS: positiveInt(60, 43200),
  WORKER_SHUTDOWN_TIMEOUT_SECONDS: positiveInt(30, 3600),
  WORKER_MAX_RECORDS_PER_CALL: positiveInt(200, 200),
  WORKER_MAX_GROUP_SIZE: positiveInt(1000, 10_000),
  WORKER_COALESCE_MS: z.coerce.number().min(0).max(1000).default(25),
  WORKER_MAX_FILL_MS: z.coerce.number().int().min(0).max(30_000).default(1000),
  WORKER_LANES: positiveInt(1, 16),
  WORKER_GROUP_DEADLINE_SECONDS: positiveInt(120, 3600),
  WORKER_MAX_HOLD_SECONDS: positiveInt(600, 43_200),
  IDEMPOTENCY_TTL_DAYS: positiveInt(35, 365),
  MAPPING_FILE: optionalString,
  BACKFILL_BULK_THRESHOLD: positiveInt(2000),
  BACKFILL_BULK_JOB_RECORDS: positiveInt(10_000, 100_000),
  LOCAL_STATE_FILE: optionalString,
});

/** Every variable the program reads itself (secrets may also come as `NAME_FILE`). */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(environmentSchema.shape);

/** The typed configuration, parsed once at start-up and passed down. */
export interface AppConfig {
  /** True unless NODE_ENV=production: missing dependencies fall back to embedded local ones. */
  isLocal: boolean;
  logLevel: string;
  web: {
    /** Webhook server port (PORT, default 8000). */
    port: number;
    /** Webhook signing secrets; a signature made with any of them is accepted (rotation). */
    webhookSecrets: string[];
    /** Accepted age of a signature's timestamp in seconds (default 300). */
    toleranceSeconds: number;
    /** Largest accepted body in bytes (default 1 MiB). */
    bodyLimitBytes: number;
    /** Longest a webhook waits for companions before its SendMessageBatch (default 2 ms). */
    enqueueBatchWindowMs: number;
    /** After SIGTERM, how long readiness answers 503 while webhooks are still served (default 0). */
    drainDelaySeconds: number;
  };
  worker: {
    /** Port of the worker's health and metrics server (WORKER_PORT, default 8001). */
    port: number;
    /** Receives in flight at once (default 4). */
    concurrency: number;
    /** Messages per receive, at most 10 (default 10). */
    batchSize: number;
    /** Long-poll wait (default 20 s). */
    waitTimeSeconds: number;
    /** Visibility timeout set on received messages and extended while working (default 60 s). */
    visibilityTimeoutSeconds: number;
    /** Bound on the drain after SIGTERM (default 30 s). */
    shutdownTimeoutSeconds: number;
    /** Records per sObject Collections request, at most 200. */
    maxRecordsPerCall: number;
    /** Most messages synced together (default 1000: five full collections requests, one Composite call). */
    maxGroupSize: number;
    /** Longest one group may take before its messages go back to the queue (default 120 s). */
    groupDeadlineSeconds: number;
    /** Longest the worker keeps a message hidden, pauses included (default 600 s). */
    maxHoldSeconds: number;
    /** Under a backlog (receives come back full), the longest wait for the next receive before writing (default 25 ms). */
    coalesceMs: number;
    /** Under a backlog, the longest a message waits for companions before its group is written (default 1000 ms). */
    maxFillMs: number;
    /** Groups synced at once, each over its own customers, so they never wait on each other's records (default 1). */
    lanes: number;
    /** How long applied event ids are remembered (default 35 days, beyond Stripe's 30). */
    idempotencyTtlSeconds: number;
  };
  stripe: {
    apiKey: string | undefined;
    apiBase: string | undefined;
    /** Reads per second shared by every replica, per Stripe account (default 80% of Stripe's limit: 80 live, 20 test). */
    readsPerSecond: number | undefined;
    /** Which mode's events the worker writes (STRIPE_EVENT_MODE, default `both`); the other's are acknowledged and counted. */
    eventMode: "both" | "live" | "test";
  };
  /** EventBridge envelopes the worker accepts on the queue; none unless both lists are set. */
  eventBridge: {
    /** `source` prefixes, `aws.partner/stripe.com/<event destination id>` (EVENTBRIDGE_SOURCES). */
    sources: string[];
    /** AWS accounts of the event bus (EVENTBRIDGE_AWS_ACCOUNTS). */
    awsAccounts: string[];
  };
  sqs: { queueUrl: string | undefined; dlqUrl: string | undefined; region: string | undefined };
  redis: { url: string | undefined; password: string | undefined };
  salesforce: {
    loginUrl: string | undefined;
    authFlow: SalesforceAuthFlow;
    clientId: string | undefined;
    clientSecret: string | undefined;
    username: string | undefined;
    password: string | undefined;
    securityToken: string | undefined;
    /** PEM private key for the JWT bearer flow, read from SALESFORCE_PRIVATE_KEY_FILE. */
    privateKey: string | undefined;
    apiVersion: string;
    /** This service's own Salesforce API calls per rolling 24 h, across replicas (unset: no budget). */
    dailyApiBudget: number | undefined;
  };
  /** Path of the mapping-overrides file (YAML or JSON), if any. */
  mappingFile: string | undefined;
  /** Settings of the operations commands (backfill, replay, reconcile). */
  cli: {
    /** Records of one object above which `backfill --via auto` uses Bulk API 2.0 (default 2000). */
    bulkThreshold: number;
    /** Records per Bulk API 2.0 ingest job, which bounds how long its records stay leased (default 10000). */
    bulkJobRecords: number;
  };
  /** Where local mode writes the endpoints of what it started, for the operations commands (default under the OS temp dir). */
  localStateFile: string | undefined;
}

/** Formats zod issues as `VARIABLE: what is wrong` lines. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join(".") || "(environment)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Parses and validates the environment for `role`. Throws ConfigError naming each bad variable.
 * With NODE_ENV=production every setting the role needs is required; otherwise missing ones are
 * left undefined for the local fallbacks (embedded queue, in-memory store, Salesforce emulator).
 */
export function loadConfig(
  role: Role | "cli",
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): AppConfig {
  const parsed = environmentSchema.safeParse(resolveSecretFiles(env, readFile));
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`);
  const e = parsed.data;
  const isLocal = e.NODE_ENV !== "production";
  const runsWeb = role === "web" || role === "all";
  const runsWorker = role === "worker" || role === "all";

  const redisUrl =
    e.REDIS_URL ?? (e.REDIS_HOST ? `redis://${e.REDIS_HOST}:${e.REDIS_PORT ?? 6379}` : undefined);
  let privateKey: string | undefined;
  if (e.SALESFORCE_PRIVATE_KEY_FILE) {
    try {
      privateKey = readFile(e.SALESFORCE_PRIVATE_KEY_FILE);
    } catch (error) {
      throw new ConfigError(
        `SALESFORCE_PRIVATE_KEY_FILE: cannot read ${e.SALESFORCE_PRIVATE_KEY_FILE}: ${(error as Error).message}`,
      );
    }
  }

  const config: AppConfig = {
    isLocal,
    logLevel: e.LOG_LEVEL,
    web: {
      port: e.PORT,
      webhookSecrets: (e.STRIPE_WEBHOOK_SECRET ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
      toleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
      bodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
      enqueueBatchWindowMs: e.ENQUEUE_BATCH_WINDOW_MS,
      drainDelaySeconds: e.WEB_DRAIN_DELAY_SECONDS,
    },
    worker: {
      port: e.WORKER_PORT,
      concurrency: e.WORKER_CONCURRENCY,
      batchSize: e.WORKER_BATCH_SIZE,
      waitTimeSeconds: e.WORKER_WAIT_TIME_SECONDS,
      visibilityTimeoutSeconds: e.WORKER_VISIBILITY_TIMEOUT_SECONDS,
      shutdownTimeoutSeconds: e.WORKER_SHUTDOWN_TIMEOUT_SECONDS,
      maxRecordsPerCall: e.WORKER_MAX_RECORDS_PER_CALL,
      maxGroupSize: e.WORKER_MAX_GROUP_SIZE,
      groupDeadlineSeconds: e.WORKER_GROUP_DEADLINE_SECONDS,
      maxHoldSeconds: e.WORKER_MAX_HOLD_SECONDS,
      coalesceMs: e.WORKER_COALESCE_MS,
      maxFillMs: e.WORKER_MAX_FILL_MS,
      lanes: e.WORKER_LANES,
      idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_DAYS * 86400,
    },
    stripe: {
      apiKey: e.STRIPE_API_KEY,
      apiBase: e.STRIPE_API_BASE,
      readsPerSecond: e.STRIPE_READS_PER_SECOND,
      eventMode: e.STRIPE_EVENT_MODE,
    },
    eventBridge: { sources: e.EVENTBRIDGE_SOURCES, awsAccounts: e.EVENTBRIDGE_AWS_ACCOUNTS },
    sqs: { queueUrl: e.SQS_QUEUE_URL, dlqUrl: e.SQS_DLQ_URL, region: e.AWS_REGION },
    redis: { url: redisUrl, password: e.REDIS_PASSWORD },
    salesforce: {
      loginUrl: e.SALESFORCE_LOGIN_URL ?? e.SALESFORCE_INSTANCE_URL,
      authFlow: e.SALESFORCE_AUTH_FLOW,
      clientId: e.SALESFORCE_CLIENT_ID,
      clientSecret: e.SALESFORCE_CLIENT_SECRET,
      username: e.SALESFORCE_USERNAME,
      password: e.SALESFORCE_PASSWORD,
      securityToken: e.SALESFORCE_SECURITY_TOKEN,
      privateKey,
      apiVersion: e.SALESFORCE_API_VERSION,
      dailyApiBudget: e.SALESFORCE_DAILY_API_BUDGET,
    },
    mappingFile: e.MAPPING_FILE,
    cli: {
      bulkThreshold: e.BACKFILL_BULK_THRESHOLD,
      bulkJobRecords: e.BACKFILL_BULK_JOB_RECORDS,
    },
    localStateFile: e.LOCAL_STATE_FILE,
  };

  const missing: string[] = [];
  const need = (name: string, value: unknown, why: string) => {
    if (value === undefined || (Array.isArray(value) && value.length === 0)) missing.push(`${name}: ${why}`);
  };
  // The operations commands check what each of them needs (cli/command-context.ts).
  if (!isLocal && role !== "cli") {
    need("SQS_QUEUE_URL", config.sqs.queueUrl, "required when NODE_ENV=production");
    need("AWS_REGION", config.sqs.region, "required when NODE_ENV=production");
    if (runsWeb)
      need(
        "STRIPE_WEBHOOK_SECRET",
        config.web.webhookSecrets,
        "required for role web when NODE_ENV=production",
      );
    if (runsWorker) {
      need(
        "REDIS_URL",
        config.redis.url,
        "required for role worker when NODE_ENV=production (or REDIS_HOST)",
      );
      need(
        "SALESFORCE_LOGIN_URL",
        config.salesforce.loginUrl,
        "required for role worker when NODE_ENV=production",
      );
    }
  }
  // One list without the other would dead-letter every envelope: say so at start-up instead.
  if ((config.eventBridge.sources.length === 0) !== (config.eventBridge.awsAccounts.length === 0))
    missing.push(
      config.eventBridge.sources.length === 0
        ? "EVENTBRIDGE_SOURCES: required with EVENTBRIDGE_AWS_ACCOUNTS (the Stripe event destinations to accept)"
        : "EVENTBRIDGE_AWS_ACCOUNTS: required with EVENTBRIDGE_SOURCES (the AWS accounts of the event bus)",
    );
  // Credentials are checked whenever a real Salesforce org is named, in every mode.
  if ((runsWorker || role === "cli") && config.salesforce.loginUrl) {
    const sf = config.salesforce;
    need("SALESFORCE_CLIENT_ID", sf.clientId, `required for SALESFORCE_AUTH_FLOW=${sf.authFlow}`);
    if (sf.authFlow !== "jwt")
      need("SALESFORCE_CLIENT_SECRET", sf.clientSecret, `required for SALESFORCE_AUTH_FLOW=${sf.authFlow}`);
    if (sf.authFlow !== "client_credentials")
      need("SALESFORCE_USERNAME", sf.username, `required for SALESFORCE_AUTH_FLOW=${sf.authFlow}`);
    if (sf.authFlow === "password")
      need("SALESFORCE_PASSWORD", sf.password, "required for SALESFORCE_AUTH_FLOW=password");
    if (sf.authFlow === "jwt")
      need("SALESFORCE_PRIVATE_KEY_FILE", sf.privateKey, "required for SALESFORCE_AUTH_FLOW=jwt");
  }
  if (missing.length > 0) throw new ConfigError(`invalid configuration: ${missing.join("; ")}`);
  return config;
}

import { dirname } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Redis } from "ioredis";
import { loadConfig, type AppConfig } from "../config/config.js";
import { BulkIngest } from "../data-access/salesforce/bulk-ingest.js";
import { salesforceAuthOptionsFromConfig } from "../data-access/salesforce/salesforce-auth.js";
import { SalesforceClient } from "../data-access/salesforce/salesforce-client.js";
import { InMemoryTokenCache } from "../data-access/salesforce/token-cache.js";
import { createSqsClient } from "../data-access/sqs/create-sqs-client.js";
import { connectRedis } from "../data-access/store/connect-redis.js";
import { MemorySyncStore } from "../data-access/store/memory-sync-store.js";
import { RedisSyncStore } from "../data-access/store/redis-sync-store.js";
import { createStripeLists, type StripeLists } from "../data-access/stripe/stripe-lists.js";
import { loadMapping } from "../domain/sync/mapping-file.js";
import type { Mapping } from "../domain/sync/mapping.js";
import type { SyncStore } from "../domain/sync/sync-store-port.js";
import { discoverDeadLetterQueueUrl } from "../entry-points/worker/dead-letter.js";
import { localStateFilePath, readLocalState, type LocalEndpoints } from "../roles/local-state-file.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { createMetrics, type Metrics } from "../shared/metrics.js";
import { fileCheckpoints, redisCheckpoints, type Checkpoints } from "./checkpoints.js";
import type { CliIo } from "./reporter.js";

/** A command line or a setting the command needs is missing or wrong: exit code 2. */
export class UsageError extends Error {}

/** Prefix of every Redis key, as the worker's store has it (the org id follows). */
const KEY_PREFIX = "sfsync:";

/**
 * The clients one command uses, built on first use from the same configuration as the roles. In
 * local mode (NODE_ENV other than production) what is not configured is taken from the running
 * `npm start`'s state file (roles/local-state-file.ts); when none runs, the command says so.
 */
export class CommandContext {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly metrics: Metrics = createMetrics({ collectDefaults: false });
  /** The running local mode's endpoints, when one was found. */
  readonly local: LocalEndpoints | undefined;
  /** Why no local mode was found (local mode only). */
  readonly localProblem: string | undefined;
  readonly stateFile: string;
  /** Aborted when the operator interrupts (SIGINT/SIGTERM): stop at the next safe point. */
  signal: AbortSignal = new AbortController().signal;
  private readonly closers: (() => Promise<void> | void)[] = [];
  private cache = new Map<string, unknown>();

  constructor(readonly io: CliIo) {
    this.config = loadConfig("cli", io.env);
    this.logger = createLogger({ level: io.env.LOG_LEVEL ?? "warn", toStderr: true });
    this.stateFile = localStateFilePath(this.config.localStateFile);
    if (!this.config.isLocal) return;
    const found = readLocalState(this.stateFile);
    if ("endpoints" in found) this.local = found.endpoints;
    else
      this.localProblem =
        found.missing === "no_file"
          ? `no local mode is running (npm start writes ${this.stateFile} while it runs)`
          : `the local mode that wrote ${this.stateFile} (pid ${found.pid}) is no longer running`;
  }

  private once<T>(name: string, build: () => T): T {
    if (!this.cache.has(name)) this.cache.set(name, build());
    return this.cache.get(name) as T;
  }

  /** A missing setting: in local mode, with why no running `npm start` supplied it. */
  private missing(what: string, variable: string): UsageError {
    const hint = this.config.isLocal
      ? ` (${this.localProblem ?? "the running local mode does not provide it"}; start one with npm start, or set ${variable})`
      : `: set ${variable}`;
    return new UsageError(`${what} is not configured${hint}`);
  }

  /** The field mapping in force (MAPPING_FILE, else the contract's). */
  mapping(): Mapping {
    return this.once("mapping", () => loadMapping(this.config.mappingFile));
  }

  /** The SQS client and the main queue's URL. */
  queue(): { sqs: SQSClient; queueUrl: string } {
    return this.once("queue", () => {
      const configured = this.config.sqs.queueUrl;
      const local = configured ? undefined : this.local?.sqs;
      const queueUrl = configured ?? local?.queueUrl;
      if (!queueUrl) throw this.missing("the queue", "SQS_QUEUE_URL");
      const endpoint = local?.endpoint ?? this.io.env.AWS_ENDPOINT_URL_SQS;
      const sqs = createSqsClient(
        {
          region: this.config.sqs.region ?? "us-east-1",
          ...(endpoint ? { endpoint } : {}),
          ...(local?.endpoint ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
        },
        this.io.env,
      );
      this.closers.push(() => sqs.destroy());
      return { sqs, queueUrl };
    });
  }

  /** The dead-letter queue: SQS_DLQ_URL, else local mode's, else the one in the main queue's RedrivePolicy. */
  async dlqUrl(): Promise<string> {
    const { sqs, queueUrl } = this.queue();
    const url =
      this.config.sqs.dlqUrl ??
      (this.config.sqs.queueUrl ? undefined : this.local?.sqs?.dlqUrl) ??
      (await discoverDeadLetterQueueUrl(sqs, queueUrl));
    if (!url) throw new UsageError("no dead-letter queue: set SQS_DLQ_URL or give the queue a RedrivePolicy");
    return url;
  }

  /** The Salesforce client (its own token, in this process). */
  salesforce(): SalesforceClient {
    return this.once("salesforce", () => {
      let settings = this.config.salesforce;
      if (!settings.loginUrl && this.local?.salesforce) {
        const { loginUrl, clientId, clientSecret } = this.local.salesforce;
        settings = { ...settings, loginUrl, clientId, clientSecret, authFlow: "client_credentials" };
      }
      if (!settings.loginUrl) throw this.missing("Salesforce", "SALESFORCE_LOGIN_URL");
      return new SalesforceClient({
        auth: salesforceAuthOptionsFromConfig(settings),
        apiVersion: settings.apiVersion,
        tokenCache: new InMemoryTokenCache(),
        logger: this.logger,
        metrics: this.metrics,
      });
    });
  }

  /** Bulk API 2.0 ingest jobs on the Salesforce client's token. */
  bulk(): BulkIngest {
    return this.once("bulk", () => new BulkIngest(() => this.salesforce().jsforceConnection()));
  }

  /** The org's id, which scopes every Redis key. */
  async orgId(): Promise<string> {
    return this.once("orgId", () =>
      this.salesforce()
        .identity()
        .then((identity) => identity.orgId),
    );
  }

  /** A Redis connection when REDIS_URL (or local mode's) names one. */
  redis(): Redis | undefined {
    return this.once("redis", () => {
      const url = this.config.redis.url ?? this.local?.redisUrl;
      if (!url) return undefined;
      const redis = connectRedis(url, { password: this.config.redis.password, logger: this.logger });
      this.closers.push(() => redis.disconnect());
      return redis;
    });
  }

  /**
   * The sync store the workers use (Redis, keys scoped by the org id), so that leases keep the live
   * worker off the records being written. Without Redis (local mode only) a store of this process:
   * `isShared` false, and the command says the running worker cannot see its leases.
   */
  async store(): Promise<{ store: SyncStore; isShared: boolean }> {
    const redis = this.redis();
    if (!redis) {
      if (!this.config.isLocal) throw this.missing("Redis", "REDIS_URL");
      return { store: new MemorySyncStore(), isShared: false };
    }
    const store = new RedisSyncStore(redis);
    store.scopeTo(await this.orgId());
    return { store, isShared: true };
  }

  /** Where replay and backfill keep their checkpoints: Redis, else (local mode) files beside the state file. */
  async checkpoints(): Promise<Checkpoints> {
    const redis = this.redis();
    if (redis) return redisCheckpoints(redis, `${KEY_PREFIX}${await this.orgId()}:`);
    if (!this.config.isLocal) throw this.missing("Redis", "REDIS_URL");
    return fileCheckpoints(dirname(this.stateFile));
  }

  /** Checkpoints that need no org (replay): Redis without the org scope, else files. */
  queueCheckpoints(): Checkpoints {
    const redis = this.redis();
    if (redis) return redisCheckpoints(redis, KEY_PREFIX);
    if (!this.config.isLocal) throw this.missing("Redis", "REDIS_URL");
    return fileCheckpoints(dirname(this.stateFile));
  }

  /** Whether a Stripe key is configured. */
  hasStripeKey(): boolean {
    return this.config.stripe.apiKey !== undefined;
  }

  /** Stripe's lists under the read rate. */
  stripe(): StripeLists {
    return this.once("stripe", () => {
      const apiKey = this.config.stripe.apiKey;
      if (!apiKey)
        throw new UsageError(
          "this command reads the Stripe API: set STRIPE_API_KEY (or STRIPE_API_KEY_FILE)",
        );
      return createStripeLists({
        apiKey,
        apiBase: this.config.stripe.apiBase,
        readsPerSecond: this.config.stripe.readsPerSecond,
      });
    });
  }

  /** Closes every connection opened. */
  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close();
  }
}

import type { AppConfig, Role } from "../config/config.js";
import { effectiveObjects, type Mapping } from "../domain/sync/mapping.js";
import type { Logger } from "../shared/logger.js";
import { LOCAL_SALESFORCE_EMULATOR_PORT, LOCAL_WEBHOOK_SECRET } from "./local-defaults.js";
import {
  localStateFilePath,
  removeLocalState,
  writeLocalState,
  type LocalEndpoints,
} from "./local-state-file.js";
import { pickLocalPort } from "./local-port.js";

/** The configuration with every local fallback filled in, and what was started for it. */
export interface LocalSetup {
  config: AppConfig;
  /** Endpoint of the embedded queue server, when one was started. */
  sqsEndpoint: string | undefined;
  /** Lines for the local-mode banner. */
  notes: string[];
  /** Stops what was started, in reverse order. */
  stop(): Promise<void>;
}

/**
 * The one place local mode is decided: with NODE_ENV other than production, whatever is not
 * configured is replaced by an embedded stand-in (the queue by fauxqs, the webhook secret by a
 * fixed local one, the org by the Salesforce emulator; Redis stays unset and the worker keeps its
 * state in memory), and a taken worker or emulator port is replaced by a free one (the banner says
 * which). In production `loadConfig` already refused a missing setting, so nothing here applies.
 * Both development-only modules are imported only when needed.
 */
export async function resolveLocalFallbacks(
  role: Role,
  config: AppConfig,
  mapping: Mapping,
  logger: Logger,
): Promise<LocalSetup> {
  const stoppers: (() => Promise<void>)[] = [];
  const notes: string[] = [];
  const resolved: AppConfig = structuredClone(config);
  const setup: LocalSetup = {
    config: resolved,
    sqsEndpoint: undefined,
    notes,
    async stop() {
      for (const stop of stoppers.reverse()) await stop();
    },
  };
  if (!config.isLocal) return setup;
  const runsWeb = role !== "worker";
  const runsWorker = role !== "web";
  let hasEmulator = false;
  try {
    if (!resolved.sqs.queueUrl) {
      const { startEmbeddedSqs } = await import("../local/embedded-sqs.js");
      const embedded = await startEmbeddedSqs();
      stoppers.push(() => embedded.stop());
      resolved.sqs.queueUrl = embedded.queueUrl;
      resolved.sqs.dlqUrl ??= embedded.dlqUrl;
      setup.sqsEndpoint = embedded.endpoint;
      // The AWS SDK needs credentials even for a local server.
      process.env.AWS_ACCESS_KEY_ID ??= "local";
      process.env.AWS_SECRET_ACCESS_KEY ??= "local";
      notes.push(
        `embedded SQS-compatible queue on ${embedded.endpoint}: stripe-events, dead-letter queue stripe-events-dlq`,
      );
    }
    if (runsWeb && resolved.web.webhookSecrets.length === 0) {
      resolved.web.webhookSecrets = [LOCAL_WEBHOOK_SECRET];
      notes.push(`local webhook signing secret: ${LOCAL_WEBHOOK_SECRET}`);
    }
    if (runsWorker) {
      const worker = await pickLocalPort(resolved.worker.port);
      resolved.worker.port = worker.port;
      if (worker.movedFrom !== undefined)
        notes.push(`WORKER_PORT ${worker.movedFrom} is taken: worker health and metrics use ${worker.port}`);
    }
    if (runsWorker && !resolved.salesforce.loginUrl) {
      const { startSalesforceEmulator, DEFAULT_EMULATOR_CREDENTIALS } =
        await import("../emulator/salesforce/index.js");
      const emulatorPort = await pickLocalPort(
        Number(process.env.SALESFORCE_EMULATOR_PORT ?? LOCAL_SALESFORCE_EMULATOR_PORT),
        "127.0.0.1",
      );
      if (emulatorPort.movedFrom !== undefined)
        notes.push(
          `SALESFORCE_EMULATOR_PORT ${emulatorPort.movedFrom} is taken: the emulator uses ${emulatorPort.port}`,
        );
      const emulator = await startSalesforceEmulator({
        port: emulatorPort.port,
        objects: effectiveObjects(mapping),
        credentials: DEFAULT_EMULATOR_CREDENTIALS,
        logger,
      });
      stoppers.push(() => emulator.stop());
      hasEmulator = true;
      resolved.salesforce = {
        ...resolved.salesforce,
        loginUrl: emulator.url,
        authFlow: "client_credentials",
        clientId: DEFAULT_EMULATOR_CREDENTIALS.clientId,
        clientSecret: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      };
      const customers = mapping.objects.Stripe_Customer__c.name;
      notes.push(
        `local Salesforce emulator: ${emulator.url} (records: ${emulator.url}/__emulator/records/${customers})`,
      );
    }
    if (runsWorker && !resolved.redis.url)
      notes.push("sync state (applied events, newest-wins stamps): in memory, lost on restart");
    announceEndpoints(role, resolved, setup.sqsEndpoint, hasEmulator, stoppers);
  } catch (error) {
    await setup.stop();
    throw error;
  }
  return setup;
}

/** Tells the operations commands where this local mode's queue, store and emulator are (local-state-file.ts). */
function announceEndpoints(
  role: Role,
  config: AppConfig,
  sqsEndpoint: string | undefined,
  hasEmulator: boolean,
  stoppers: (() => Promise<void>)[],
): void {
  const path = localStateFilePath(config.localStateFile);
  const { sqs, salesforce, redis } = config;
  const endpoints: LocalEndpoints = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    role,
    store: redis.url ? "redis" : "memory",
    ...(sqs.queueUrl
      ? {
          sqs: {
            queueUrl: sqs.queueUrl,
            ...(sqsEndpoint ? { endpoint: sqsEndpoint } : {}),
            ...(sqs.dlqUrl ? { dlqUrl: sqs.dlqUrl } : {}),
          },
        }
      : {}),
    ...(redis.url && !/\/\/[^/]*@/.test(redis.url) ? { redisUrl: redis.url } : {}),
  };
  // The emulator's credentials are local defaults, not secrets; a real org's are never written.
  if (hasEmulator && salesforce.loginUrl && salesforce.clientId && salesforce.clientSecret)
    endpoints.salesforce = {
      loginUrl: salesforce.loginUrl,
      clientId: salesforce.clientId,
      clientSecret: salesforce.clientSecret,
    };
  writeLocalState(path, endpoints);
  stoppers.push(async () => removeLocalState(path, process.pid));
}

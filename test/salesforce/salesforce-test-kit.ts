import { generateKeyPairSync } from "node:crypto";
import { createLogger } from "../../src/shared/logger.js";
import { createMetrics, type Metrics } from "../../src/shared/metrics.js";
import type { SalesforceAuthOptions } from "../../src/data-access/salesforce/salesforce-auth.js";
import {
  SalesforceClient,
  type SalesforceClientOptions,
} from "../../src/data-access/salesforce/salesforce-client.js";
import { InMemoryTokenCache, type TokenCache } from "../../src/data-access/salesforce/token-cache.js";
import type { UpsertRecordResult } from "../../src/domain/sync/salesforce-port.js";
import {
  DEFAULT_EMULATOR_CREDENTIALS,
  startSalesforceEmulator,
  type SalesforceEmulator,
} from "../../src/emulator/salesforce/index.js";

/** A key pair for the JWT bearer flow, generated once per run. */
export const jwtKeys = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});

export const credentials = { ...DEFAULT_EMULATOR_CREDENTIALS, jwtPublicKey: jwtKeys.publicKey };
export const silentLogger = createLogger({ silent: true });

/** Starts an emulator on a random port that accepts `credentials`. */
export function startEmulator(options: { apiLimit?: number } = {}): Promise<SalesforceEmulator> {
  return startSalesforceEmulator({ port: 0, credentials, ...options });
}

/** Client-credentials auth options against `emulator`. */
export function clientCredentialsAuth(emulator: SalesforceEmulator): SalesforceAuthOptions {
  return {
    loginUrl: emulator.url,
    flow: "client_credentials",
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
  };
}

/** A client on `emulator` with fresh metrics and an in-memory token cache unless given. */
export function createClient(
  emulator: SalesforceEmulator,
  overrides: Partial<SalesforceClientOptions> = {},
): { client: SalesforceClient; metrics: Metrics; tokenCache: TokenCache } {
  const metrics = overrides.metrics ?? createMetrics({ collectDefaults: false });
  const tokenCache = overrides.tokenCache ?? new InMemoryTokenCache();
  const client = new SalesforceClient({
    auth: clientCredentialsAuth(emulator),
    apiVersion: "62.0",
    logger: silentLogger,
    ...overrides,
    metrics,
    tokenCache,
  });
  return { client, metrics, tokenCache };
}

/** Current value of a counter or gauge for `labels`, 0 when never set. */
export async function metricValue(
  metric: {
    get():
      | Promise<{ values: Array<{ value: number; labels: object }> }>
      | { values: Array<{ value: number; labels: object }> };
  },
  labels: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  const match = values.find((v) =>
    Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value),
  );
  return match?.value ?? 0;
}

/** A customer record as the mapping would produce it. */
export function customer(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Stripe_Customer_Id__c: id, Name: `Customer ${id}`, ...extra };
}

/** One collections upsert through `upsertMany`: its per-record results, or its error thrown. */
export async function upsert(
  client: SalesforceClient,
  objectName: string,
  externalIdField: string,
  records: Record<string, unknown>[],
): Promise<UpsertRecordResult[]> {
  const [answer] = await client.upsertMany([{ objectName, externalIdField, records }]);
  if (!answer) throw new Error("no answer");
  if ("error" in answer) throw answer.error;
  return answer.results;
}

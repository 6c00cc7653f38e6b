import { createSign } from "node:crypto";
import type { AppConfig, SalesforceAuthFlow } from "../../config/config.js";
import { systemClock, type Clock } from "../../shared/clock.js";
import { RetryableSyncError } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";

/** A session from the OAuth 2.0 token endpoint. Salesforce sends no `expires_in`. */
export interface SalesforceToken {
  accessToken: string;
  /** The org's REST base, e.g. `https://acme.my.salesforce.com`. */
  instanceUrl: string;
  /** Identity URL `https://login.salesforce.com/id/<orgId>/<userId>`. */
  id: string;
  /** When Salesforce issued the token, in epoch milliseconds. */
  issuedAt: number;
}

/** What the token request needs: the login URL, the flow and that flow's credentials. */
export interface SalesforceAuthOptions {
  /** `https://login.salesforce.com`, `https://test.salesforce.com` or the org's My Domain URL. */
  loginUrl: string;
  /** OAuth flow (default `client_credentials`). */
  flow?: SalesforceAuthFlow;
  clientId: string;
  /** Required for `client_credentials` and `password`. */
  clientSecret?: string;
  /** Required for `jwt` (the JWT's `sub`) and `password`. */
  username?: string;
  password?: string;
  /** Appended to the password in the `password` flow. */
  securityToken?: string;
  /** PEM private key that signs the JWT in the `jwt` flow. */
  privateKey?: string;
}

/** Collaborators of the token request; all optional. */
export interface SalesforceAuthDependencies {
  /** HTTP client (default global `fetch`). */
  fetch?: typeof fetch;
  clock?: Clock;
  metrics?: Metrics;
  logger?: Logger;
  /** Request timeout in ms (default 30000). */
  timeoutMs?: number;
}

/**
 * Salesforce refused the credentials (HTTP 400 `{error, error_description}`). Not the message's
 * fault, so it is retryable for the worker (messages stay queued), but it needs a human: log it loudly.
 */
export class SalesforceAuthError extends RetryableSyncError {
  /** OAuth error code as Salesforce sent it, e.g. `invalid_grant`, `invalid_client_id`. */
  readonly oauthError: string;
  /** Salesforce's `error_description`, e.g. `authentication failure`. */
  readonly description: string;
  constructor(
    oauthError: string,
    description: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(oauthError, `Salesforce token request refused: ${oauthError} (${description})`, {
      scope: "org",
      retryAfterSeconds: options?.retryAfterSeconds ?? 60,
      ...(options?.cause === undefined ? {} : { cause: options.cause }),
    });
    this.oauthError = oauthError;
    this.description = description;
  }
}

const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT_LIFETIME_SECONDS = 180;

/** Builds the auth options from the parsed configuration (`config.salesforce`); throws when no login URL is set. */
export function salesforceAuthOptionsFromConfig(salesforce: AppConfig["salesforce"]): SalesforceAuthOptions {
  if (!salesforce.loginUrl) throw new Error("config.salesforce.loginUrl is not set");
  const options: SalesforceAuthOptions = {
    loginUrl: salesforce.loginUrl,
    flow: salesforce.authFlow,
    clientId: salesforce.clientId ?? "",
  };
  if (salesforce.clientSecret !== undefined) options.clientSecret = salesforce.clientSecret;
  if (salesforce.username !== undefined) options.username = salesforce.username;
  if (salesforce.password !== undefined) options.password = salesforce.password;
  if (salesforce.securityToken !== undefined) options.securityToken = salesforce.securityToken;
  if (salesforce.privateKey !== undefined) options.privateKey = salesforce.privateKey;
  return options;
}

/**
 * The JWT `aud`. Salesforce accepts only https://login.salesforce.com, https://test.salesforce.com
 * or an Experience Cloud site's URL, whatever host the token request goes to: a My Domain login
 * URL means login (test for a sandbox's `*.sandbox.my.salesforce.com`); any other host (a site,
 * the emulator) is its own audience.
 */
export function jwtAudience(loginUrl: string): string {
  const host = new URL(loginUrl).hostname;
  if (host === "test.salesforce.com" || host.endsWith(".sandbox.my.salesforce.com"))
    return "https://test.salesforce.com";
  if (host === "login.salesforce.com" || host.endsWith(".my.salesforce.com"))
    return "https://login.salesforce.com";
  return loginUrl.replace(/\/+$/, "");
}

const base64url = (input: string | Buffer) => Buffer.from(input).toString("base64url");

/** Signs the RS256 JWT bearer assertion (iss=client id, sub=username, aud, exp=now+180 s). */
export function createJwtAssertion(options: SalesforceAuthOptions, nowMs: number): string {
  if (!options.privateKey)
    throw new SalesforceAuthError("missing_private_key", "the jwt flow needs a private key");
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const claims = base64url(
    JSON.stringify({
      iss: options.clientId,
      sub: options.username ?? "",
      aud: jwtAudience(options.loginUrl),
      exp: Math.floor(nowMs / 1000) + JWT_LIFETIME_SECONDS,
    }),
  );
  const signature = createSign("RSA-SHA256").update(`${header}.${claims}`).sign(options.privateKey);
  return `${header}.${claims}.${base64url(signature)}`;
}

function tokenRequestForm(options: SalesforceAuthOptions, nowMs: number): URLSearchParams {
  const flow = options.flow ?? "client_credentials";
  switch (flow) {
    case "client_credentials":
      return new URLSearchParams({
        grant_type: "client_credentials",
        client_id: options.clientId,
        client_secret: options.clientSecret ?? "",
      });
    case "password":
      return new URLSearchParams({
        grant_type: "password",
        client_id: options.clientId,
        client_secret: options.clientSecret ?? "",
        username: options.username ?? "",
        password: `${options.password ?? ""}${options.securityToken ?? ""}`,
      });
    case "jwt":
      return new URLSearchParams({
        grant_type: JWT_BEARER_GRANT,
        assertion: createJwtAssertion(options, nowMs),
      });
  }
}

/** Reads a successful token body; every field the client relies on must be there. */
export function parseTokenResponse(body: unknown): SalesforceToken {
  const record = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const missing = ["access_token", "instance_url", "id"].filter(
    (key) => typeof record[key] !== "string" || record[key] === "",
  );
  if (missing.length > 0) {
    throw new RetryableSyncError(
      "token_response_invalid",
      `Salesforce token response lacks ${missing.join(", ")}`,
      { scope: "outage" },
    );
  }
  const issuedAt = Number(record.issued_at);
  return {
    accessToken: record.access_token as string,
    instanceUrl: (record.instance_url as string).replace(/\/+$/, ""),
    id: record.id as string,
    issuedAt: Number.isFinite(issuedAt) ? issuedAt : 0,
  };
}

/**
 * Requests an access token from `{loginUrl}/services/oauth2/token`. Throws SalesforceAuthError on a
 * refusal (4xx with an OAuth error) and RetryableSyncError on 5xx, network errors or a malformed answer.
 */
export async function requestSalesforceToken(
  options: SalesforceAuthOptions,
  dependencies: SalesforceAuthDependencies = {},
): Promise<SalesforceToken> {
  const flow = options.flow ?? "client_credentials";
  const clock = dependencies.clock ?? systemClock;
  const doFetch = dependencies.fetch ?? fetch;
  const count = (outcome: string) => dependencies.metrics?.salesforceTokenRequests.inc({ flow, outcome });
  const url = `${options.loginUrl.replace(/\/+$/, "")}/services/oauth2/token`;
  let response: Response;
  let text: string;
  try {
    response = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: tokenRequestForm(options, clock.now()).toString(),
      signal: AbortSignal.timeout(dependencies.timeoutMs ?? 30000),
    });
    text = await response.text();
  } catch (error) {
    if (error instanceof SalesforceAuthError) {
      count("refused");
      throw error;
    }
    count("network_error");
    throw new RetryableSyncError(
      "token_network_error",
      `Salesforce token request failed: ${(error as Error).message}`,
      { cause: error, scope: "outage" },
    );
  }
  dependencies.metrics?.salesforceCalls.inc({ operation: "token", status: String(response.status) });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok) {
    try {
      const token = parseTokenResponse(body);
      count("success");
      return token;
    } catch (error) {
      count("invalid_response");
      throw error;
    }
  }
  if (response.status >= 400 && response.status < 500) {
    const oauth = (body ?? {}) as { error?: unknown; error_description?: unknown };
    const code = typeof oauth.error === "string" ? oauth.error : `http_${response.status}`;
    const description =
      typeof oauth.error_description === "string" ? oauth.error_description : text.slice(0, 200);
    count("refused");
    dependencies.logger?.error(
      "Salesforce refused the token request; check the connected app and credentials",
      {
        flow,
        oauthError: code,
        description,
        loginUrl: options.loginUrl,
      },
    );
    throw new SalesforceAuthError(code, description);
  }
  count("server_error");
  throw new RetryableSyncError(
    `http_${response.status}`,
    `Salesforce token endpoint answered ${response.status}`,
    {
      scope: "outage",
    },
  );
}

import { createHmac, createVerify, randomBytes } from "node:crypto";
import type { EmulatorCredentials } from "./emulator-credentials.js";

/** The grant a token request used, as the stats name it. */
export type TokenFlow = "client_credentials" | "password" | "jwt" | "unsupported";

/** The answer of the token endpoint: a status and a JSON body shaped like Salesforce's. */
export interface TokenAnswer {
  flow: TokenFlow;
  status: number;
  body: Record<string, string>;
}

const ORG_ID = "00D5g000004EMUAEAW";
const USER_ID = "0055g00000EMUSRAA2";
// Salesforce allows a few minutes of clock skew on the JWT `exp`.
const JWT_SKEW_SECONDS = 180;

const refusal = (flow: TokenFlow, error: string, description: string): TokenAnswer => ({
  flow,
  status: 400,
  body: { error, error_description: description },
});

/** Issued sessions; all of them can be expired at once to emulate a session timeout. */
export class SessionStore {
  private readonly sessions = new Set<string>();

  /** Issues a new access token shaped like Salesforce's (`00D...!AQ...`). */
  issue(): string {
    const token = `${ORG_ID.slice(0, 15)}!AQ${randomBytes(48).toString("base64url")}`;
    this.sessions.add(token);
    return token;
  }

  /** True when `token` was issued and has not been expired. */
  isValid(token: string): boolean {
    return this.sessions.has(token);
  }

  /** Ends every session, as an org's session timeout or a revoked connected app would. */
  expireAll(): void {
    this.sessions.clear();
  }
}

function verifyJwt(
  assertion: string,
  credentials: EmulatorCredentials,
  audiences: string[],
  nowMs: number,
): TokenAnswer | undefined {
  const parts = assertion.split(".");
  const [header, payload, signature] = parts;
  if (parts.length !== 3 || !header || !payload || !signature)
    return refusal("jwt", "invalid_grant", "invalid assertion");
  let claims: { iss?: unknown; sub?: unknown; aud?: unknown; exp?: unknown };
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as typeof claims;
  } catch {
    return refusal("jwt", "invalid_grant", "invalid assertion");
  }
  if (claims.iss !== credentials.clientId)
    return refusal("jwt", "invalid_client_id", "client identifier invalid");
  if (!credentials.jwtPublicKey || alg !== "RS256")
    return refusal("jwt", "invalid_grant", "invalid assertion");
  let isSigned: boolean;
  try {
    isSigned = createVerify("RSA-SHA256")
      .update(`${header}.${payload}`)
      .verify(credentials.jwtPublicKey, Buffer.from(signature, "base64url"));
  } catch {
    isSigned = false;
  }
  if (!isSigned) return refusal("jwt", "invalid_grant", "invalid assertion");
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audience.some((aud) => typeof aud === "string" && audiences.includes(aud.replace(/\/+$/, "")))) {
    return refusal("jwt", "invalid_grant", "audience is invalid");
  }
  if (typeof claims.exp !== "number" || claims.exp + JWT_SKEW_SECONDS < nowMs / 1000) {
    return refusal("jwt", "invalid_grant", "expired authorization code");
  }
  if (claims.sub !== credentials.username)
    return refusal("jwt", "invalid_grant", "user hasn't approved this consumer");
  return undefined;
}

/**
 * Answers `POST /services/oauth2/token` for the client credentials, password and JWT bearer
 * grants, with Salesforce's success fields and error shapes.
 */
export function answerTokenRequest(
  form: URLSearchParams,
  context: { credentials: EmulatorCredentials; baseUrl: string; sessions: SessionStore; nowMs: number },
): TokenAnswer {
  const { credentials, baseUrl } = context;
  const grant = form.get("grant_type");
  let flow: TokenFlow;
  if (grant === "client_credentials" || grant === "password") {
    flow = grant;
    if (form.get("client_id") !== credentials.clientId)
      return refusal(flow, "invalid_client_id", "client identifier invalid");
    if (form.get("client_secret") !== credentials.clientSecret)
      return refusal(flow, "invalid_client", "invalid client credentials");
    if (
      flow === "password" &&
      (form.get("username") !== credentials.username ||
        form.get("password") !== `${credentials.password}${credentials.securityToken}`)
    ) {
      return refusal(flow, "invalid_grant", "authentication failure");
    }
  } else if (grant === "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    flow = "jwt";
    const audiences = [baseUrl, "https://login.salesforce.com", "https://test.salesforce.com"];
    const refused = verifyJwt(form.get("assertion") ?? "", credentials, audiences, context.nowMs);
    if (refused) return refused;
  } else {
    return refusal("unsupported", "unsupported_grant_type", "grant type not supported");
  }
  const accessToken = context.sessions.issue();
  const issuedAt = String(context.nowMs);
  const id = `${baseUrl}/id/${ORG_ID}/${USER_ID}`;
  return {
    flow,
    status: 200,
    body: {
      access_token: accessToken,
      instance_url: baseUrl,
      id,
      token_type: "Bearer",
      issued_at: issuedAt,
      // Salesforce signs id + issued_at with the consumer secret (HMAC-SHA256, base64).
      signature: createHmac("sha256", credentials.clientSecret)
        .update(id + issuedAt)
        .digest("base64"),
      scope: "api",
    },
  };
}

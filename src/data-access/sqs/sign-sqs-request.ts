import { createHmac, hash } from "node:crypto";

/** AWS credentials as the SDK's credential chain resolves them (IRSA, environment, profiles). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials only (IRSA, STS). */
  sessionToken?: string | undefined;
}

/** A POST to sign: where it goes, its headers (lower-case names) and its body. */
export interface SqsPost {
  /** `host[:port]` as the Host header carries it. */
  host: string;
  /** The request path, `/` for SQS's JSON protocol. */
  path: string;
  /** Headers to sign and send (sent with lower-case names); the signer adds host, x-amz-date and the token. */
  headers: Record<string, string>;
  body: Buffer;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/** `20261201T193000Z` for a date. */
function amzDateTime(date: Date): string {
  const iso = date.toISOString(); // 2026-12-01T19:30:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** A path's canonical form: each segment URI-encoded as SigV4 asks (RFC 3986 unreserved kept). */
function canonicalPath(path: string): string {
  return path
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}

/**
 * Signs SQS requests with Signature Version 4
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
 * Written here rather than through @smithy/signature-v4 because the webhook signs one call per
 * batch and the generic signer's async steps cost several times the hashes themselves; the
 * signing key is derived once per day, secret and region. A test checks it signs as the SDK does.
 */
export class SqsRequestSigner {
  private cachedKey: { id: string; key: Buffer } | undefined;

  constructor(
    private readonly region: string,
    private readonly service = "sqs",
  ) {}

  /** The headers to send: `headers` plus host, x-amz-date, the session token, and authorization. */
  sign(request: SqsPost, credentials: AwsCredentials, date = new Date()): Record<string, string> {
    const dateTime = amzDateTime(date);
    const day = dateTime.slice(0, 8);
    const headers: Record<string, string> = {};
    for (const name in request.headers) headers[name.toLowerCase()] = request.headers[name]!;
    headers.host = request.host;
    headers["x-amz-date"] = dateTime;
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    const names = Object.keys(headers).sort();
    let canonicalHeaders = "";
    for (const name of names) canonicalHeaders += `${name}:${headers[name]!.trim().replace(/\s+/g, " ")}\n`;
    const signedHeaders = names.join(";");
    const payloadHash = hash("sha256", request.body, "hex");
    const canonicalRequest = `POST\n${canonicalPath(request.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${dateTime}\n${scope}\n${hash("sha256", canonicalRequest, "hex")}`;
    const signature = createHmac("sha256", this.signingKey(credentials.secretAccessKey, day))
      .update(stringToSign)
      .digest("hex");
    headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  private signingKey(secret: string, day: string): Buffer {
    const id = `${day}\n${secret}`;
    if (this.cachedKey?.id === id) return this.cachedKey.key;
    const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
    const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), this.region), this.service), "aws4_request");
    this.cachedKey = { id, key };
    return key;
  }
}

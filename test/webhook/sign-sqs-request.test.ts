import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { expect } from "chai";
import { SignatureV4 } from "@smithy/signature-v4";
import { SqsRequestSigner, type AwsCredentials } from "../../src/data-access/sqs/sign-sqs-request.js";

type SourceData = string | ArrayBuffer | ArrayBufferView;
const toBinary = (data: SourceData): string | Uint8Array =>
  typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 the SDK's signer is given, on node:crypto (as @aws-crypto/sha256-js would compute). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBinary(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBinary(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
  reset(): void {}
}

/** The authorization header the AWS SDK's own signer computes for the same request. */
async function sdkAuthorization(
  credentials: AwsCredentials,
  region: string,
  request: { host: string; path: string; headers: Record<string, string>; body: Buffer },
  date: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    credentials,
    region,
    service: "sqs",
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: "POST",
      protocol: "https:",
      hostname: request.host.split(":")[0]!,
      path: request.path,
      query: {},
      headers: { ...request.headers, host: request.host },
      body: request.body,
    },
    { signingDate: date },
  );
  return signed.headers;
}

const BODY = Buffer.from(
  JSON.stringify({ QueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/q", Entries: [] }),
);
const HEADERS = {
  "content-type": "application/x-amz-json-1.0",
  "x-amz-target": "AmazonSQS.SendMessageBatch",
};

describe("SigV4 signing of SQS calls", () => {
  const date = new Date("2026-12-01T19:30:05.123Z");

  it("signs exactly as the AWS SDK's signer does, with long-term keys", async () => {
    const credentials = {
      accessKeyId: "AKIDEXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    };
    const request = { host: "sqs.eu-west-1.amazonaws.com", path: "/", headers: HEADERS, body: BODY };
    const ours = new SqsRequestSigner("eu-west-1").sign(request, credentials, date);
    const sdk = await sdkAuthorization(credentials, "eu-west-1", request, date);
    expect(ours.authorization).to.equal(sdk.authorization);
    expect(ours["x-amz-date"]).to.equal("20261201T193005Z").and.equal(sdk["x-amz-date"]);
    expect(ours).to.not.have.property("x-amz-security-token");
  });

  it("signs the session token of temporary credentials (IRSA) and sends it", async () => {
    const credentials = {
      accessKeyId: "ASIAEXAMPLE",
      secretAccessKey: "secret",
      sessionToken: "token/with+chars=",
    };
    const request = {
      host: "localhost:4566",
      path: "/000000000000/stripe-events",
      headers: HEADERS,
      body: BODY,
    };
    const ours = new SqsRequestSigner("us-east-1").sign(request, credentials, date);
    const sdk = await sdkAuthorization(credentials, "us-east-1", request, date);
    expect(ours.authorization).to.equal(sdk.authorization);
    expect(ours.authorization).to.match(
      /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,/,
    );
    expect(ours["x-amz-security-token"]).to.equal("token/with+chars=");
  });

  it("encodes the path as the SDK does for a non-S3 service (each segment escaped again)", async () => {
    const credentials = { accessKeyId: "A", secretAccessKey: "s" };
    const request = { host: "proxy.internal", path: "/sqs%20gateway/0/q(1)", headers: HEADERS, body: BODY };
    const sdk = await sdkAuthorization(credentials, "eu-west-1", request, date);
    expect(new SqsRequestSigner("eu-west-1").sign(request, credentials, date).authorization).to.equal(
      sdk.authorization,
    );
  });

  it("derives a new signing key when the day or the secret changes (rotated credentials)", async () => {
    const signer = new SqsRequestSigner("eu-west-1");
    const request = { host: "sqs.eu-west-1.amazonaws.com", path: "/", headers: HEADERS, body: BODY };
    const nextDay = new Date("2026-12-02T00:00:01Z");
    for (const [credentials, when] of [
      [{ accessKeyId: "A", secretAccessKey: "one" }, date],
      [{ accessKeyId: "A", secretAccessKey: "one" }, nextDay],
      [{ accessKeyId: "B", secretAccessKey: "two" }, nextDay],
    ] as const) {
      const sdk = await sdkAuthorization(credentials, "eu-west-1", request, when);
      expect(signer.sign(request, credentials, when).authorization).to.equal(sdk.authorization);
    }
  });
});

import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { SignatureV4 } from "@smithy/signature-v4";
import type { BatchAnswer, BatchEntry, BatchSender, EntryFailure } from "./batch-sender.js";
import { resolveSqsEndpoint } from "./create-sqs-client.js";

/** Options of the signed SendMessageBatch sender. */
export interface SignedBatchSenderOptions {
  /** The SDK client whose credential chain (IRSA, environment, profiles) and region sign the calls. */
  sqs: SQSClient;
  queueUrl: string;
  /** Where calls go (default: as the SDK client would send them, see resolveSqsEndpoint). */
  endpoint?: string;
  /** Connection timeout in ms (default 1000). */
  connectTimeoutMs?: number;
  /** Timeout of one attempt in ms (default 5000). */
  requestTimeoutMs?: number;
  /** Attempts for network failures, 5xx and throttling (default 3, as the SDK client's). */
  maxAttempts?: number;
}

/** A SendMessageBatch call SQS answered with an error as a whole. */
export class SqsCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number | undefined,
    readonly isRetryable: boolean,
  ) {
    super(message);
    this.name = code;
  }
}

/** Bytes as SignatureV4 hands them over. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const toBinary = (data: SourceData): string | Uint8Array =>
  typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 (or HMAC-SHA-256, given a secret) SignatureV4 needs, on node:crypto. */
class NodeSha256 {
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

interface SqsJsonEntry {
  Id: string;
  MessageBody: string;
  MessageAttributes: Record<string, { DataType: "String"; StringValue: string }>;
  MessageDeduplicationId?: string;
  MessageGroupId?: string;
}

function toJsonEntry(entry: BatchEntry): SqsJsonEntry {
  const attributes: SqsJsonEntry["MessageAttributes"] = {};
  for (const name in entry.attributes)
    attributes[name] = { DataType: "String", StringValue: entry.attributes[name]! };
  const json: SqsJsonEntry = { Id: entry.id, MessageBody: entry.body, MessageAttributes: attributes };
  if (entry.groupId !== undefined) {
    json.MessageGroupId = entry.groupId;
    if (entry.deduplicationId !== undefined) json.MessageDeduplicationId = entry.deduplicationId;
  }
  return json;
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
  });
}

function parseAnswer(text: string): BatchAnswer {
  const answer = JSON.parse(text) as {
    Successful?: { Id: string }[];
    Failed?: { Id: string; Code?: string; Message?: string; SenderFault?: boolean }[];
  };
  const failed = new Map<string, EntryFailure>();
  for (const entry of answer.Failed ?? [])
    failed.set(entry.Id, {
      code: entry.Code ?? "unknown",
      message: entry.Message ?? "",
      senderFault: entry.SenderFault === true,
    });
  return { succeeded: new Set((answer.Successful ?? []).map((entry) => entry.Id)), failed };
}

function callError(statusCode: number, text: string): SqsCallError {
  let code = `http_${statusCode}`;
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    if (body.__type) code = body.__type.split("#").pop() ?? code;
    message = body.message ?? body.Message ?? message;
  } catch {
    // not JSON
  }
  const isThrottled = /throttl|RequestLimitExceeded|TooManyRequests/i.test(code);
  return new SqsCallError(code, message, statusCode, statusCode >= 500 || isThrottled);
}

/**
 * SendMessageBatch as one signed HTTP POST of the SQS JSON protocol, with the SDK's credentials and
 * region. Written by hand because the SDK serializes each message body character by character in
 * JavaScript: in bench:ingest this sender costs the web role several times less CPU per batch.
 */
export function signedBatchSender(options: SignedBatchSenderOptions): BatchSender {
  const maxAttempts = options.maxAttempts ?? 3;
  let connection: Promise<Connection> | undefined;
  return async (entries) => {
    connection ??= connect(options).catch((error: unknown) => {
      connection = undefined;
      throw error;
    });
    const send = await connection;
    const body = JSON.stringify({ QueueUrl: options.queueUrl, Entries: entries.map(toJsonEntry) });
    for (let attemptNumber = 1; ; attemptNumber++) {
      try {
        return await send(body);
      } catch (error) {
        const isRetryable = error instanceof SqsCallError && error.isRetryable;
        if (!isRetryable || attemptNumber >= maxAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attemptNumber * (0.5 + Math.random())));
      }
    }
  };
}

/** Sends one signed SendMessageBatch body: one attempt. */
type Connection = (body: string) => Promise<BatchAnswer>;

/** Resolves the endpoint, region and signer once, and keeps one keep-alive agent. */
async function connect(options: SignedBatchSenderOptions): Promise<Connection> {
  const target = new URL(options.endpoint ?? (await resolveSqsEndpoint(options.sqs, options.queueUrl)));
  const isHttps = target.protocol === "https:";
  const request = isHttps ? httpsRequest : httpRequest;
  const agent = isHttps
    ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
    : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const port = Number(target.port) || (isHttps ? 443 : 80);
  const path = target.pathname || "/";
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const signer = new SignatureV4({
    credentials: options.sqs.config.credentials,
    region: await options.sqs.config.region(),
    service: "sqs",
    sha256: NodeSha256,
  });

  return async (text) => {
    // Sent as bytes: with a string Node joins it to the header text and encodes the whole, which
    // measured 10-15% more web-role CPU per webhook in bench:ingest.
    const body = Buffer.from(text);
    const signed = await signer.sign({
      method: "POST",
      protocol: target.protocol,
      hostname: target.hostname,
      port,
      path,
      query: {},
      headers: {
        host: target.host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AmazonSQS.SendMessageBatch",
        "content-length": String(body.length),
      },
      body,
    });
    return new Promise<BatchAnswer>((resolve, reject) => {
      const req = request(
        { host: target.hostname, port, path, method: "POST", headers: signed.headers, agent },
        (response) => {
          readAll(response)
            .then((text) => {
              const status = response.statusCode ?? 0;
              if (status === 200) resolve(parseAnswer(text));
              else reject(callError(status, text));
            })
            .catch(reject);
        },
      );
      const connectTimer = setTimeout(
        () => req.destroy(new SqsCallError("ConnectTimeout", "no connection to SQS", undefined, true)),
        connectTimeoutMs,
      );
      req.once("socket", (socket) => {
        if (!socket.connecting) clearTimeout(connectTimer);
        else socket.once("connect", () => clearTimeout(connectTimer));
      });
      req.setTimeout(requestTimeoutMs, () =>
        req.destroy(new SqsCallError("RequestTimeout", "SQS did not answer in time", undefined, true)),
      );
      req.once("close", () => clearTimeout(connectTimer));
      req.on("error", (error: Error) =>
        reject(
          error instanceof SqsCallError
            ? error
            : new SqsCallError(
                (error as NodeJS.ErrnoException).code ?? error.name,
                error.message,
                undefined,
                true,
              ),
        ),
      );
      req.end(body);
    });
  };
}

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { BatchAnswer, BatchEntry, BatchSender, EntryFailure } from "./batch-sender.js";
import { resolveSqsEndpoint } from "./create-sqs-client.js";
import { createKeepAliveHttpClient, HttpTransportError } from "./keep-alive-http-client.js";
import { SqsRequestSigner } from "./sign-sqs-request.js";

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
  /** Longest a call may take, every attempt and backoff included, in ms (default 10000). */
  deadlineMs?: number;
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

/** Error codes of a request signed with a clock too far from AWS's (as the AWS SDK tells them). */
const CLOCK_SKEW_CODES = new Set([
  "AuthFailure",
  "InvalidSignatureException",
  "RequestExpired",
  "RequestInTheFuture",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
]);
/** Error codes worth another attempt besides 5xx and throttling (the AWS SDK's transient ones). */
const TRANSIENT_CODES = new Set(["RequestTimeout", "RequestTimeoutException", "TimeoutError"]);
/** How far the clock may be from the server's before signatures are refused (SigV4's 5 minutes). */
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

function callError(statusCode: number, text: string): SqsCallError {
  let code = `http_${statusCode}`;
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
    // `com.amazonaws.sqs#QueueDoesNotExist:http://...` names QueueDoesNotExist.
    if (body.__type) code = body.__type.split("#").pop()!.split(":")[0] || code;
    message = body.message ?? body.Message ?? message;
  } catch {
    // not JSON
  }
  const isThrottled = statusCode === 429 || /throttl|RequestLimitExceeded|TooManyRequests/i.test(code);
  return new SqsCallError(
    code,
    message,
    statusCode,
    statusCode >= 500 || isThrottled || TRANSIENT_CODES.has(code),
  );
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
    const deadline = performance.now() + (options.deadlineMs ?? 10_000);
    const body = JSON.stringify({ QueueUrl: options.queueUrl, Entries: entries.map(toJsonEntry) });
    for (let attemptNumber = 1; ; attemptNumber++) {
      try {
        return await send(body, deadline - performance.now());
      } catch (error) {
        const isRetryable = error instanceof SqsCallError && error.isRetryable;
        const backoffMs = 25 * 2 ** attemptNumber * (0.5 + Math.random());
        if (!isRetryable || attemptNumber >= maxAttempts || performance.now() + backoffMs >= deadline)
          throw error;
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  };
}

/** Sends one signed SendMessageBatch body within `timeoutMs`: one attempt. */
type Connection = (body: string, timeoutMs: number) => Promise<BatchAnswer>;

/** Resolves the endpoint, region and signer once, and keeps its connections alive. */
async function connect(options: SignedBatchSenderOptions): Promise<Connection> {
  const origin = new URL(options.endpoint ?? (await resolveSqsEndpoint(options.sqs, options.queueUrl)));
  const path = origin.pathname || "/";
  const http = createKeepAliveHttpClient({
    origin,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    requestTimeoutMs: options.requestTimeoutMs ?? 5000,
  });
  const signer = new SqsRequestSigner(await options.sqs.config.region());
  const { config } = options.sqs;

  return async (text, timeoutMs) => {
    const body = Buffer.from(text);
    const headers = signer.sign(
      {
        host: origin.host,
        path,
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": "AmazonSQS.SendMessageBatch",
        },
        body,
      },
      await config.credentials(),
      // The SDK client's clock correction, which both keep up to date from AWS's answers.
      new Date(Date.now() + config.systemClockOffset),
    );
    let answer;
    try {
      answer = await http.post(path, headers, body, timeoutMs);
    } catch (error) {
      if (!(error instanceof HttpTransportError)) throw error;
      throw new SqsCallError(error.code, error.message, undefined, true);
    }
    const answerText = answer.body.toString("utf8");
    if (answer.status === 200) return parseAnswer(answerText);
    const error = callError(answer.status, answerText);
    const serverTime = answer.date === undefined ? Number.NaN : Date.parse(answer.date);
    // Refused for a skewed clock: sign again with the server's time (as the SDK does).
    if (
      CLOCK_SKEW_CODES.has(error.code) &&
      Math.abs(Date.now() + config.systemClockOffset - serverTime) >= MAX_CLOCK_SKEW_MS
    ) {
      config.systemClockOffset = serverTime - Date.now();
      throw new SqsCallError(error.code, error.message, error.statusCode, true);
    }
    throw error;
  };
}

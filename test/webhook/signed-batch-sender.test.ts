import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import nock from "nock";
import { SQSClient } from "@aws-sdk/client-sqs";
import { signedBatchSender, SqsCallError } from "../../src/data-access/sqs/signed-batch-sender.js";
import { freePort } from "../support/child-server.js";

const ENDPOINT = "http://sqs.test";
const QUEUE_URL = `${ENDPOINT}/000000000000/stripe-events`;
const ENTRY = { id: "m0", body: '{"id":"evt_1"}', attributes: { event_id: "evt_1" } };

/** A client whose credential chain yields temporary credentials, as IRSA's web identity does. */
const client = () =>
  new SQSClient({
    region: "eu-west-1",
    endpoint: ENDPOINT,
    credentials: { accessKeyId: "ASIATEST", secretAccessKey: "secret", sessionToken: "session-token" },
  });

// Faults a real SQS-compatible server cannot be made to produce on demand; the happy paths run
// against fauxqs and moto in webhook-ingest.test.ts and event-fidelity.test.ts.
describe("SendMessageBatch signed by hand (faults from SQS, nock)", () => {
  before(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  after(() => nock.enableNetConnect());

  it("signs with the client's credentials and region (SigV4 for sqs) and sends the JSON protocol", async () => {
    const scope = nock(ENDPOINT, {
      reqheaders: {
        "x-amz-target": "AmazonSQS.SendMessageBatch",
        "content-type": "application/x-amz-json-1.0",
        "x-amz-security-token": "session-token",
        authorization:
          /^AWS4-HMAC-SHA256 Credential=ASIATEST\/\d{8}\/eu-west-1\/sqs\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
      },
    })
      .post("/", {
        QueueUrl: QUEUE_URL,
        Entries: [
          {
            Id: "m0",
            MessageBody: '{"id":"evt_1"}',
            MessageAttributes: { event_id: { DataType: "String", StringValue: "evt_1" } },
          },
        ],
      })
      .reply(200, { Successful: [{ Id: "m0", MessageId: "1" }] });
    const answer = await signedBatchSender({ sqs: client(), queueUrl: QUEUE_URL })([ENTRY]);
    expect([...answer.succeeded]).to.deep.equal(["m0"]);
    expect(scope.isDone()).to.equal(true);
  });

  it("retries a 5xx and a throttled call, then succeeds", async () => {
    nock(ENDPOINT)
      .post("/")
      .reply(500, { __type: "com.amazonaws.sqs#InternalError", message: "oops" })
      .post("/")
      .reply(400, { __type: "com.amazonaws.sqs#RequestThrottled", message: "slow down" })
      .post("/")
      .reply(200, { Successful: [{ Id: "m0" }] });
    const answer = await signedBatchSender({ sqs: client(), queueUrl: QUEUE_URL })([ENTRY]);
    expect(answer.succeeded.has("m0")).to.equal(true);
    expect(nock.isDone()).to.equal(true);
  });

  it("does not retry an error of the request itself, and names it", async () => {
    nock(ENDPOINT)
      .post("/")
      .once()
      .reply(400, { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "no such queue" });
    const failure = await signedBatchSender({ sqs: client(), queueUrl: QUEUE_URL })([ENTRY]).catch(
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(SqsCallError);
    expect(failure).to.include({ code: "QueueDoesNotExist", statusCode: 400, isRetryable: false });
  });

  it("reports each refused entry with its code and whether the sender is at fault", async () => {
    nock(ENDPOINT)
      .post("/")
      .reply(200, {
        Successful: [],
        Failed: [{ Id: "m0", SenderFault: true, Code: "InvalidMessageContents", Message: "bad char" }],
      });
    const answer = await signedBatchSender({ sqs: client(), queueUrl: QUEUE_URL })([ENTRY]);
    expect(answer.failed.get("m0")).to.deep.equal({
      code: "InvalidMessageContents",
      message: "bad char",
      senderFault: true,
    });
  });
});

describe("SendMessageBatch signed by hand, with no SQS listening", () => {
  it("gives up after three attempts and names the network error", async () => {
    const port = await freePort();
    const sqs = new SQSClient({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const started = performance.now();
    const failure = await signedBatchSender({ sqs, queueUrl: `http://127.0.0.1:${port}/0/q` })([ENTRY]).catch(
      (error: unknown) => error,
    );
    expect(failure).to.include({ code: "ECONNREFUSED", isRetryable: true });
    // Reported, not asserted: the backoff between the three attempts.
    console.log(`      (three attempts took ${(performance.now() - started).toFixed(0)} ms)`);
  });
});

/** A real HTTP server on loopback answering each call with `answer`, and what it was sent. */
async function startSqsStandIn(
  answer: (call: number, request: IncomingMessage, response: ServerResponse) => void,
) {
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    request.resume();
    request.on("end", () => answer(requests.length, request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sqs = new SQSClient({
    region: "eu-west-1",
    endpoint,
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  return { requests, sqs, queueUrl: `${endpoint}/000000000000/q`, close: () => server.close() };
}

describe("SendMessageBatch signed by hand, against answers SQS gives rarely (a real server on loopback)", () => {
  it("signs again with the server's time after a refusal for a skewed clock, and keeps the correction", async () => {
    const serverNow = Date.now() + 60 * 60 * 1000;
    const standIn = await startSqsStandIn((call, _request, response) => {
      response.setHeader("date", new Date(serverNow).toUTCString());
      response.setHeader("content-type", "application/x-amz-json-1.0");
      if (call === 1) {
        response.statusCode = 400;
        response.end('{"__type":"com.amazonaws.sqs#SignatureDoesNotMatch","message":"Signature expired"}');
      } else response.end('{"Successful":[{"Id":"m0","MessageId":"1"}]}');
    });
    try {
      const answer = await signedBatchSender({ sqs: standIn.sqs, queueUrl: standIn.queueUrl })([ENTRY]);
      expect(answer.succeeded.has("m0")).to.equal(true);
      // x-amz-date (20261201T193005Z) of each attempt, in ms since the epoch.
      const signedAt = standIn.requests.map((r) =>
        Date.parse(
          String(r.headers["x-amz-date"]).replace(
            /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
            "$1-$2-$3T$4:$5:$6Z",
          ),
        ),
      );
      expect(Math.abs(signedAt[0]! - Date.now()), "first: the local clock").to.be.lessThan(5 * 60 * 1000);
      expect(Math.abs(signedAt[1]! - serverNow), "second: the server's").to.be.lessThan(5 * 60 * 1000);
      expect(standIn.sqs.config.systemClockOffset).to.be.greaterThan(50 * 60 * 1000);
    } finally {
      standIn.close();
    }
  });

  it("retries a 429 whose body is not JSON, and names an error whose type carries a suffix", async () => {
    const standIn = await startSqsStandIn((call, _request, response) => {
      if (call === 1) {
        response.statusCode = 429;
        response.end("Too Many Requests");
      } else {
        response.statusCode = 400;
        response.end(
          '{"__type":"com.amazonaws.sqs#QueueDoesNotExist:http://internal/doc","message":"no queue"}',
        );
      }
    });
    try {
      const failure = await signedBatchSender({ sqs: standIn.sqs, queueUrl: standIn.queueUrl })([
        ENTRY,
      ]).catch((error: unknown) => error);
      expect(standIn.requests).to.have.length(2);
      expect(failure).to.include({ code: "QueueDoesNotExist", isRetryable: false });
    } finally {
      standIn.close();
    }
  });

  it("gives up at its deadline, even when a single attempt could wait longer", async () => {
    const standIn = await startSqsStandIn(() => undefined);
    try {
      const failure = await signedBatchSender({
        sqs: standIn.sqs,
        queueUrl: standIn.queueUrl,
        requestTimeoutMs: 5000,
        deadlineMs: 300,
      })([ENTRY]).catch((error: unknown) => error);
      expect(failure).to.include({ code: "RequestTimeout", isRetryable: true });
      expect(standIn.requests, "no attempt after the deadline").to.have.length(1);
    } finally {
      standIn.close();
    }
  });
});

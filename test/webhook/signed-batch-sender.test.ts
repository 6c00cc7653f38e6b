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

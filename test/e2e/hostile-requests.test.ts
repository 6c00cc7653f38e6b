import { expect } from "chai";
import { freePort } from "../support/child-server.js";
import { postLargeBody, rawExchange } from "../support/raw-http.js";
import { makeEvent, signPayload } from "../support/signing.js";
import { sqsEnv, startSqsServer, type SqsServer } from "../support/sqs-server.js";
import { answers200, spawnMain, type MainProcess } from "./support/main-process.js";

const SECRET = "whsec_hostile";
const MIB = 1024 * 1024;

/** The process's stdout lines, each parsed as JSON (a line that is not JSON fails the parse). */
function jsonLines(app: MainProcess): Record<string, unknown>[] {
  return app
    .stdout()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line is not JSON: ${line}`);
      }
    });
}

describe("end to end: hostile and unusual requests to the web role get a clean answer and JSON log lines", function () {
  this.timeout(90_000);
  let sqsServer: SqsServer;
  let app: MainProcess;
  let port: number;
  let base: string;

  before(async () => {
    sqsServer = await startSqsServer();
    const { queueUrl } = await sqsServer.createQueue(`hostile-${Date.now()}`);
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = spawnMain(["web"], {
      ...(sqsEnv(sqsServer.endpoint) as Record<string, string>),
      NODE_ENV: "production",
      PORT: String(port),
      SQS_QUEUE_URL: queueUrl,
      STRIPE_WEBHOOK_SECRET: SECRET,
    });
    await app.waitUntil(() => answers200(`${base}/health`), "/health to answer 200", 60_000);
  });

  after(async () => {
    await app?.kill("SIGKILL");
    await sqsServer?.stop();
  });

  it("TRACE, GET and DELETE on the webhook path get 405 with Allow: POST, not a 5xx", async () => {
    for (const method of ["TRACE", "GET", "DELETE"]) {
      // fetch refuses to send TRACE: written by hand.
      const answer = await rawExchange(
        port,
        `${method} /webhook/stripe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(answer, method).to.match(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
      expect(answer, method).to.match(/\r\nAllow: POST\r\n/);
    }
    const status = async (method: string, path: string) =>
      (await rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).split(
        " ",
      )[1];
    expect(await status("OPTIONS", "/webhook/stripe")).to.equal("204");
    expect(await status("TRACE", "/health")).to.equal("405");
    expect(await status("TRACE", "/nowhere")).to.equal("404");
  });

  it("a method Node's HTTP parser refuses gets a 400 and one JSON line naming the parser's reason", async () => {
    const answer = await rawExchange(port, "FOO /webhook/stripe HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(answer).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await app.waitUntil(
      async () => jsonLines(app).some((l) => l.code === "HPE_INVALID_METHOD"),
      "the parser error's log line",
    );
    const line = jsonLines(app).find((l) => l.code === "HPE_INVALID_METHOD");
    expect(line).to.include({ level: "info", status: 400 });
    expect(String(line?.reason)).to.include("Invalid method");
  });

  it("a malformed Content-Length gets a 400, logged as JSON", async () => {
    const answer = await rawExchange(
      port,
      "POST /webhook/stripe HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    );
    expect(answer).to.match(/^HTTP\/1\.1 400 /);
  });

  const tooLarge: [string, number, { chunked?: boolean; expectContinue?: boolean }][] = [
    ["an 8 MiB body with Content-Length", 8 * MIB, {}],
    ["a 4 MiB chunked body", 4 * MIB, { chunked: true }],
    ["a 5 MiB body announced with Expect: 100-continue", 5 * MIB, { expectContinue: true }],
  ];
  for (const [what, bytes, options] of tooLarge) {
    it(`${what} gets a 413 the client can read (no reset)`, async () => {
      const outcome = await postLargeBody(port, "/webhook/stripe", bytes, options);
      expect(outcome.clientError, JSON.stringify(outcome)).to.equal(undefined);
      expect(outcome.status).to.equal(413);
      expect(JSON.parse(outcome.body)).to.include({ error: "payload_too_large" });
      if (options.expectContinue) expect(outcome.bytesSent).to.equal(0);
    });
  }

  it("when the queue is down a signed event gets 503, logged at error, and the access line stays at info", async () => {
    await sqsServer.stop();
    const payload = JSON.stringify(makeEvent("customer.updated", { id: "cus_down", object: "customer" }));
    const answer = await fetch(`${base}/webhook/stripe`, {
      method: "POST",
      headers: { "stripe-signature": signPayload(payload, SECRET), "x-request-id": "hostile-503" },
      body: payload,
    });
    expect(answer.status).to.equal(503);
    await app.waitUntil(
      async () => jsonLines(app).some((l) => l.correlationId === "hostile-503" && l.message === "request"),
      "the access line",
    );
    const lines = jsonLines(app).filter((l) => l.correlationId === "hostile-503");
    expect(lines.find((l) => l.message === "enqueue failed")).to.include({ level: "error" });
    expect(lines.find((l) => l.message === "request")).to.include({
      level: "info",
      status: 503,
      outcome: "enqueue_failed",
    });
  });

  it("wrote every stdout line as JSON and nothing on stderr", () => {
    expect(jsonLines(app).length).to.be.greaterThan(5);
    expect(app.stderr()).to.equal("");
  });
});

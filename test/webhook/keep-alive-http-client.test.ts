import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  createKeepAliveHttpClient,
  HttpTransportError,
  type KeepAliveHttpClient,
} from "../../src/data-access/sqs/keep-alive-http-client.js";

/** A real HTTP server on loopback, counting the connections it accepted. */
async function startServer(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
  create: (listener: (request: IncomingMessage, response: ServerResponse) => void) => Server = createServer,
): Promise<{ server: Server; origin: (protocol?: string) => URL; connections: () => number }> {
  let connections = 0;
  const server = create((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => handle(request, Buffer.concat(chunks).toString("utf8"), response));
  });
  server.on("connection", () => connections++);
  server.on("secureConnection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: (protocol = "http:") => new URL(`${protocol}//127.0.0.1:${port}`),
    connections: () => connections,
  };
}

/** A TCP server that answers each request with `answer` (raw bytes), for framings node:http never writes. */
async function startRawServer(answer: (socket: Socket) => void): Promise<{ server: NetServer; origin: URL }> {
  const server = createNetServer((socket) => socket.once("data", () => answer(socket)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) };
}

/**
 * A TCP server answering "ok" to each request, except where `drops(connection, request)` (both
 * counted from 1) says to close the connection instead, as a server's keep-alive timeout does when
 * it races the client's next request.
 */
async function startDroppingServer(drops: (connection: number, request: number) => boolean) {
  let connections = 0;
  const server = createNetServer((socket) => {
    const connection = ++connections;
    let requests = 0;
    socket.on("data", () => {
      if (drops(connection, ++requests)) socket.destroy();
      else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return { server, origin, connections: () => connections };
}

const post = (client: KeepAliveHttpClient, text = "hello") =>
  client.post("/", { host: "sqs.test", "content-type": "text/plain" }, Buffer.from(text));

describe("keep-alive HTTP client of the SQS sender (real servers on loopback)", () => {
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
  });
  const track = <T extends { close(): unknown }>(closable: T) => {
    closers.push(() => void closable.close());
    return closable;
  };

  it("sends the headers and body, reads the answer, and reuses one connection for calls in turn", async () => {
    const seen: string[] = [];
    const { server, origin, connections } = await startServer((request, body, response) => {
      seen.push(
        `${request.method} ${request.url} ${request.headers["content-type"]} ${request.headers["content-length"]} ${body}`,
      );
      response.end(`echo ${body}`);
    });
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin() }));
    for (const text of ["one", "two", "three"]) {
      const answer = await post(client, text);
      expect(answer.status).to.equal(200);
      expect(answer.body.toString()).to.equal(`echo ${text}`);
    }
    expect(seen).to.deep.equal([
      "POST / text/plain 3 one",
      "POST / text/plain 3 two",
      "POST / text/plain 5 three",
    ]);
    expect(connections()).to.equal(1);
  });

  it("reads a chunked answer, and an error status with its body", async () => {
    const { server, origin } = await startServer((_request, body, response) => {
      if (body === "fail") {
        response.writeHead(400, { "content-type": "application/json" });
        response.end('{"__type":"QueueDoesNotExist"}');
        return;
      }
      response.write("part one, ");
      setTimeout(() => response.end("part two"), 20);
    });
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin() }));
    expect((await post(client)).body.toString()).to.equal("part one, part two");
    const failed = await post(client, "fail");
    expect(failed.status).to.equal(400);
    expect(failed.body.toString()).to.equal('{"__type":"QueueDoesNotExist"}');
  });

  it("opens a new connection after an answer that says Connection: close", async () => {
    const { server, origin, connections } = await startServer((_request, _body, response) => {
      response.setHeader("connection", "close");
      response.end("bye");
    });
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin() }));
    await post(client);
    await post(client);
    expect(connections()).to.equal(2);
  });

  it("opens a new connection when the server closed the idle one", async () => {
    const { server, origin, connections } = await startServer((_request, _body, response) =>
      response.end("ok"),
    );
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin() }));
    await post(client);
    server.closeIdleConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await post(client)).body.toString()).to.equal("ok");
    expect(connections()).to.equal(2);
  });

  it("sends a call again on a new connection when the reused one closes without a byte of answer", async () => {
    // The first connection answers once, then closes as the second request arrives.
    const { server, origin, connections } = await startDroppingServer((c, r) => c === 1 && r === 2);
    track(server);
    const client = track(createKeepAliveHttpClient({ origin }));
    await post(client);
    expect((await post(client)).body.toString()).to.equal("ok");
    expect(connections()).to.equal(2);
  });

  it("sends again on a new connection, not another pooled one, when two kept-alive ones went stale", async () => {
    // Every connection answers once, then closes as its second request arrives.
    const { server, origin, connections } = await startDroppingServer((_c, r) => r === 2);
    track(server);
    const client = track(createKeepAliveHttpClient({ origin }));
    await Promise.all([post(client), post(client)]);
    expect(connections(), "two connections pooled").to.equal(2);
    expect((await post(client)).body.toString()).to.equal("ok");
    expect(connections()).to.equal(3);
  });

  it("never reuses a connection on which bytes arrived while it was idle", async () => {
    const sockets: Socket[] = [];
    const { server, origin, connections } = await startServer((request, _body, response) => {
      sockets.push(request.socket);
      response.end("ok");
    });
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin() }));
    await post(client);
    sockets[0]!.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await post(client)).body.toString()).to.equal("ok");
    expect(connections()).to.equal(2);
  });

  it("queues calls beyond maxSockets on the connections it has", async () => {
    const { server, origin, connections } = await startServer((_request, body, response) =>
      setTimeout(() => response.end(body), 10),
    );
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin(), maxSockets: 2 }));
    const answers = await Promise.all(["a", "b", "c", "d", "e"].map((text) => post(client, text)));
    expect(answers.map((answer) => answer.body.toString())).to.deep.equal(["a", "b", "c", "d", "e"]);
    expect(connections()).to.equal(2);
  });

  it("fails a call the server does not answer in time with RequestTimeout, and the next one works", async () => {
    let calls = 0;
    const { server, origin } = await startServer((_request, _body, response) => {
      if (++calls > 1) response.end("late but fine");
    });
    track(server);
    const client = track(createKeepAliveHttpClient({ origin: origin(), requestTimeoutMs: 100 }));
    const failure = await post(client).catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(HttpTransportError).and.include({ code: "RequestTimeout" });
    expect((await post(client)).body.toString()).to.equal("late but fine");
  });

  it("names a refused connection", async () => {
    const { server, origin } = await startServer(() => undefined);
    await new Promise((resolve) => server.close(resolve));
    const failure = await post(createKeepAliveHttpClient({ origin: origin() })).catch(
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(HttpTransportError).and.include({ code: "ECONNREFUSED" });
  });

  it("skips an interim 100 answer, reads an answer framed by the connection's end, and refuses malformed ones", async () => {
    const interim = await startRawServer((socket) =>
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
    const untilClose = await startRawServer((socket) => socket.end("HTTP/1.0 200 OK\r\n\r\nall of it"));
    const garbage = await startRawServer((socket) => socket.write("SSH-2.0-OpenSSH\r\n\r\n"));
    const badChunk = await startRawServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
    );
    const twoLengths = await startRawServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!"),
    );
    for (const { server } of [interim, untilClose, garbage, badChunk, twoLengths]) track(server);
    expect(
      (await post(track(createKeepAliveHttpClient({ origin: interim.origin })))).body.toString(),
    ).to.equal("ok");
    expect(
      (await post(track(createKeepAliveHttpClient({ origin: untilClose.origin })))).body.toString(),
    ).to.equal("all of it");
    for (const { origin } of [garbage, badChunk, twoLengths]) {
      const failure = await post(track(createKeepAliveHttpClient({ origin }))).catch(
        (error: unknown) => error,
      );
      expect(failure, origin.port)
        .to.be.instanceOf(HttpTransportError)
        .and.include({ code: "MalformedAnswer" });
    }
  });

  it("speaks HTTPS, checking the server's certificate", async function () {
    const dir = mkdtempSync(join(tmpdir(), "sqs-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "1",
          "-subj",
          "/CN=127.0.0.1",
          "-addext",
          "subjectAltName=IP:127.0.0.1",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
        ],
        { stdio: "ignore" },
      );
    } catch {
      console.log("      (skipped: no openssl to make a test certificate)");
      this.skip();
    }
    const cert = readFileSync(join(dir, "cert.pem"));
    const { server, origin } = await startServer(
      (_request, body, response) => response.end(`tls ${body}`),
      (listener) => createHttpsServer({ key: readFileSync(join(dir, "key.pem")), cert }, listener),
    );
    track(server);
    const untrusted = await post(track(createKeepAliveHttpClient({ origin: origin("https:") }))).catch(
      (error: unknown) => error,
    );
    expect(untrusted).to.be.instanceOf(HttpTransportError);
    const client = track(createKeepAliveHttpClient({ origin: origin("https:"), ca: cert }));
    expect((await post(client)).body.toString()).to.equal("tls hello");
  });
});

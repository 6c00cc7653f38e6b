import { request } from "node:http";
import { connect } from "node:net";

/** Writes `text` on a fresh TCP connection and resolves with everything the server sent back. */
export function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer within 5 s")));
  });
}

/** What a client streaming a large body saw. */
export interface LargeBodyOutcome {
  status: number | undefined;
  body: string;
  /** The client's own error (EPIPE, ECONNRESET), when it got one. */
  clientError: string | undefined;
  /** Bytes of the body the client wrote before the answer or the error. */
  bytesSent: number;
}

/**
 * POSTs `bytes` of body in 64 KiB chunks as a streaming client does (with Content-Length unless
 * `chunked`, with `Expect: 100-continue` when asked), reading the answer while still writing.
 */
export function postLargeBody(
  port: number,
  path: string,
  bytes: number,
  options: { chunked?: boolean; expectContinue?: boolean } = {},
): Promise<LargeBodyOutcome> {
  return new Promise((resolve) => {
    const outcome: LargeBodyOutcome = { status: undefined, body: "", clientError: undefined, bytesSent: 0 };
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "stripe-signature": "t=1,v1=00",
    };
    if (!options.chunked) headers["content-length"] = String(bytes);
    if (options.expectContinue) headers.expect = "100-continue";
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers }, (res) => {
      outcome.status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (outcome.body += chunk));
      res.on("end", () => resolve(outcome));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      outcome.clientError = error.code ?? error.message;
      resolve(outcome);
    });
    const chunk = Buffer.alloc(64 * 1024, "a");
    const write = () => {
      while (outcome.bytesSent < bytes && outcome.status === undefined) {
        outcome.bytesSent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      req.end();
    };
    if (options.expectContinue) req.once("continue", write);
    else write();
  });
}

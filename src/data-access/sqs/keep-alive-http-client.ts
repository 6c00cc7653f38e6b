import type { Socket } from "node:net";
import { HttpResponseParser, MalformedAnswerError, type HttpAnswer } from "./http-response-parser.js";
import { HttpTransportError, SocketPool, type SocketPoolOptions } from "./socket-pool.js";

export { HttpTransportError };

/** Options of the keep-alive HTTP client. */
export interface KeepAliveHttpClientOptions extends SocketPoolOptions {
  /** Longest wait for a new connection, in ms (default 1000). */
  connectTimeoutMs?: number;
  /** Longest wait for an answer, from the request's first byte sent to the answer's last, in ms (default 5000). */
  requestTimeoutMs?: number;
}

/** POSTs to one origin over kept-alive connections. */
export interface KeepAliveHttpClient {
  /**
   * Sends one POST (`headers` with lower-case names, host included) and resolves with its whole
   * answer, within `timeoutMs` in all (default: the connect plus the request timeout).
   */
  post(path: string, headers: Record<string, string>, body: Buffer, timeoutMs?: number): Promise<HttpAnswer>;
  /** Closes the idle connections (those in use close once answered). */
  close(): void;
}

/** An exchange that failed, and whether any byte of an answer had arrived. */
class ExchangeError extends HttpTransportError {
  constructor(
    error: HttpTransportError,
    readonly hasAnswerStarted: boolean,
  ) {
    super(error.code, error.message);
  }
}

/**
 * A minimal HTTP/1.1 client for one origin: one request at a time per connection, connections kept
 * alive (socket-pool.ts), no redirects, no proxy. Written here because node:http's client costs the
 * webhook about three times the CPU of the exchange itself per SendMessageBatch call (its streams,
 * events and header objects); see the README's ingest profile.
 */
export function createKeepAliveHttpClient(options: KeepAliveHttpClientOptions): KeepAliveHttpClient {
  const { origin } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const pool = new SocketPool(options);

  const acquire = (timeoutMs: number, fresh = false) =>
    pool.acquire(Math.min(connectTimeoutMs, timeoutMs), fresh);

  /** One request on one connection, answered whole within `timeoutMs`. */
  const exchange = (socket: Socket, head: Buffer, body: Buffer, timeoutMs: number) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const parser = new HttpResponseParser();
      let hasAnswerStarted = false;
      const cleanUp = () => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.off("close", onEnd);
        socket.off("error", onError);
      };
      const fail = (error: HttpTransportError) => {
        cleanUp();
        socket.destroy();
        reject(new ExchangeError(error, hasAnswerStarted));
      };
      const onData = (chunk: Buffer) => {
        hasAnswerStarted = true;
        let parsed;
        try {
          parsed = parser.push(chunk);
        } catch (error) {
          if (error instanceof MalformedAnswerError)
            return fail(new HttpTransportError("MalformedAnswer", error.message));
          throw error;
        }
        if (!parsed) return;
        cleanUp();
        if (parsed.canReuse) pool.release(socket);
        else socket.destroy();
        resolve(parsed.answer);
      };
      const onEnd = () => {
        const parsed = parser.end();
        if (!parsed)
          return fail(
            new HttpTransportError("ECONNRESET", `${origin.host} closed the connection before answering`),
          );
        cleanUp();
        socket.destroy();
        resolve(parsed.answer);
      };
      const onError = (error: NodeJS.ErrnoException) =>
        fail(new HttpTransportError(error.code ?? error.name, error.message));
      const timer = setTimeout(
        () =>
          fail(
            new HttpTransportError(
              "RequestTimeout",
              `${origin.host} did not answer in ${Math.round(timeoutMs)} ms`,
            ),
          ),
        timeoutMs,
      );
      socket.on("data", onData);
      socket.once("end", onEnd);
      socket.once("close", onEnd);
      socket.once("error", onError);
      socket.cork();
      socket.write(head);
      socket.write(body);
      socket.uncork();
    });

  return {
    async post(path, headers, body, timeoutMs = connectTimeoutMs + requestTimeoutMs) {
      const deadline = performance.now() + timeoutMs;
      const remaining = () => Math.max(1, deadline - performance.now());
      let text = `POST ${path} HTTP/1.1\r\n`;
      for (const name in headers) text += `${name}: ${headers[name]}\r\n`;
      const head = Buffer.from(`${text}content-length: ${body.length}\r\n\r\n`, "latin1");
      const first = await acquire(remaining());
      try {
        return await exchange(first.socket, head, body, Math.min(requestTimeoutMs, remaining()));
      } catch (error) {
        // A kept-alive connection the server closed as this request reached it: once more, on a
        // new connection, as HTTP clients do for a request that got no byte of answer (RFC 9112
        // §9.3.1). SendMessageBatch is not idempotent, so a batch the server did store may be
        // stored twice: the worker applies an event once whatever its copies (by its id).
        const isStale =
          first.isReused &&
          error instanceof ExchangeError &&
          !error.hasAnswerStarted &&
          error.code !== "RequestTimeout";
        if (!isStale || deadline - performance.now() <= 0) throw error;
        const fresh = await acquire(remaining(), true);
        return exchange(fresh.socket, head, body, Math.min(requestTimeoutMs, remaining()));
      }
    },
    close() {
      pool.close();
    },
  };
}

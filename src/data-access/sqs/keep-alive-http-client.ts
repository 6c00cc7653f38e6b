import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { HttpResponseParser, MalformedAnswerError, type HttpAnswer } from "./http-response-parser.js";

/** Options of the keep-alive HTTP client. */
export interface KeepAliveHttpClientOptions {
  /** The origin every request goes to (`http:` or `https:`). */
  origin: URL;
  /** Connection timeout in ms (default 1000). */
  connectTimeoutMs?: number;
  /** Timeout of one request, from its first byte sent to its answer's last, in ms (default 5000). */
  requestTimeoutMs?: number;
  /** Connections open at once; beyond, requests wait for one (default 256). */
  maxSockets?: number;
  /** An idle connection older than this is closed instead of reused, in ms (default 30000). */
  idleTimeoutMs?: number;
  /** Certificate authorities HTTPS trusts (default: Node's bundled roots). */
  ca?: string | Buffer;
}

/** A request that got no whole answer: a network error, a timeout, or a malformed answer. */
export class HttpTransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** POSTs to one origin over kept-alive connections. */
export interface KeepAliveHttpClient {
  /** Sends one POST (`headers` with lower-case names, host included) and resolves with its whole answer. */
  post(path: string, headers: Record<string, string>, body: Buffer): Promise<HttpAnswer>;
  /** Closes the idle connections (those in use close once answered). */
  close(): void;
}

interface IdleSocket {
  socket: Socket;
  idleSince: number;
}

/**
 * A minimal HTTP/1.1 client for one origin: one request at a time per connection, connections kept
 * alive and reused most-recent first, no redirects, no proxy. Written here because node:http's
 * client costs the webhook about three times the CPU of the exchange itself per SendMessageBatch
 * call (its streams, events and header objects); see the README's ingest profile.
 */
export function createKeepAliveHttpClient(options: KeepAliveHttpClientOptions): KeepAliveHttpClient {
  const { origin } = options;
  const isHttps = origin.protocol === "https:";
  const host = origin.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(origin.port) || (isHttps ? 443 : 80);
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5000;
  const maxSockets = options.maxSockets ?? 256;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const idle: IdleSocket[] = [];
  const waiting: (() => void)[] = [];
  let open = 0;

  const onSocketGone = (socket: Socket) => {
    open--;
    const index = idle.findIndex((entry) => entry.socket === socket);
    if (index >= 0) idle.splice(index, 1);
    waiting.shift()?.();
  };

  const connect = (): Promise<Socket> => {
    open++;
    const socket = isHttps
      ? tlsConnect({
          host,
          port,
          servername: isIP(host) ? undefined : host,
          ALPNProtocols: ["http/1.1"],
          ...(options.ca ? { ca: options.ca } : {}),
        })
      : netConnect({ host, port });
    socket.setNoDelay(true);
    // An idle connection's errors are answered by its close; a request's by its own listener.
    socket.on("error", () => undefined);
    socket.once("close", () => onSocketGone(socket));
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new HttpTransportError(
            "ConnectTimeout",
            `no connection to ${origin.host} in ${connectTimeoutMs} ms`,
          ),
        );
      }, connectTimeoutMs);
      const onError = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new HttpTransportError(error.code ?? error.name, error.message));
      };
      socket.once("error", onError);
      socket.once(isHttps ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        resolve(socket);
      });
    });
  };

  /** An idle connection young enough to reuse, or a new one; waits while maxSockets are busy. */
  const acquire = async (): Promise<{ socket: Socket; isReused: boolean }> => {
    for (;;) {
      const now = performance.now();
      for (let entry = idle.pop(); entry; entry = idle.pop()) {
        if (!entry.socket.destroyed && now - entry.idleSince < idleTimeoutMs) {
          entry.socket.ref();
          return { socket: entry.socket, isReused: true };
        }
        entry.socket.destroy();
      }
      if (open < maxSockets) return { socket: await connect(), isReused: false };
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };

  const release = (socket: Socket) => {
    socket.unref();
    idle.push({ socket, idleSince: performance.now() });
    waiting.shift()?.();
  };

  /** One request on one connection; `hasAnswerStarted` tells a stale reused connection apart. */
  const exchange = (socket: Socket, head: Buffer, body: Buffer) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const parser = new HttpResponseParser();
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
        reject(Object.assign(error, { hasAnswerStarted: parser.hasStarted }));
      };
      const onData = (chunk: Buffer) => {
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
        if (parsed.canReuse) release(socket);
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
              `${origin.host} did not answer in ${requestTimeoutMs} ms`,
            ),
          ),
        requestTimeoutMs,
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
    async post(path, headers, body) {
      let text = `POST ${path} HTTP/1.1\r\n`;
      for (const name in headers) text += `${name}: ${headers[name]}\r\n`;
      const head = Buffer.from(`${text}content-length: ${body.length}\r\n\r\n`, "latin1");
      const first = await acquire();
      try {
        return await exchange(first.socket, head, body);
      } catch (error) {
        // A kept-alive connection the server closed as this request left it: once more on a new one,
        // as HTTP clients do for a request that got no byte of answer (RFC 9112 §9.3.1).
        const isStale = first.isReused && !(error as { hasAnswerStarted?: boolean }).hasAnswerStarted;
        if (!isStale || (error as HttpTransportError).code === "RequestTimeout") throw error;
        const fresh = await acquire();
        return exchange(fresh.socket, head, body);
      }
    },
    close() {
      for (const entry of idle.splice(0)) entry.socket.destroy();
    },
  };
}

import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** Options of a pool of connections to one origin. */
export interface SocketPoolOptions {
  /** The origin connections go to (`http:` or `https:`). */
  origin: URL;
  /** Connections open at once; beyond, `acquire` waits for one (default 256). */
  maxSockets?: number;
  /** An idle connection is closed after this long, in ms (default 30000). */
  idleTimeoutMs?: number;
  /** Certificate authorities HTTPS trusts (default: Node's roots and NODE_EXTRA_CA_CERTS). */
  ca?: string | Buffer;
}

/** A request that got no whole answer: no connection, a network error, a timeout, or a malformed answer. */
export class HttpTransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** A connection handed out by the pool; give it back with `release` or destroy it. */
export interface PooledSocket {
  socket: Socket;
  /** It carried an earlier request: the server may have closed it as this one left. */
  isReused: boolean;
}

/** Bytes on an idle connection were never asked for: the connection is out of step. */
function destroyOnData(this: Socket): void {
  this.destroy();
}

/**
 * Kept-alive connections to one origin, one request at a time each, the most recently used first.
 * An idle connection is unref'd (it keeps no process alive), closed after `idleTimeoutMs`, and
 * dropped when it closes or receives anything. HTTPS resumes the last TLS session.
 */
export class SocketPool {
  private readonly idle: Socket[] = [];
  private readonly waiting = new Set<() => void>();
  private open = 0;
  private tlsSession: Buffer | undefined;
  private readonly isHttps: boolean;
  private readonly host: string;
  private readonly port: number;
  private readonly maxSockets: number;
  private readonly idleTimeoutMs: number;

  constructor(private readonly options: SocketPoolOptions) {
    this.isHttps = options.origin.protocol === "https:";
    this.host = options.origin.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(options.origin.port) || (this.isHttps ? 443 : 80);
    this.maxSockets = options.maxSockets ?? 256;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  }

  /**
   * An idle connection, or a new one (always new when `fresh`), within `timeoutMs` (a new
   * connection's handshake included); waits while `maxSockets` are in use.
   */
  async acquire(timeoutMs: number, fresh = false): Promise<PooledSocket> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!fresh) {
        for (let socket = this.idle.pop(); socket; socket = this.idle.pop()) {
          socket.off("data", destroyOnData);
          if (!socket.destroyed && socket.writable && !socket.readableEnded) {
            socket.ref();
            return { socket, isReused: true };
          }
          socket.destroy();
        }
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0)
        throw new HttpTransportError(
          "ConnectTimeout",
          `no free connection to ${this.options.origin.host} in time`,
        );
      if (this.open < this.maxSockets) return { socket: await this.connect(remaining), isReused: false };
      await this.waitForSlot(remaining);
    }
  }

  /** Puts a connection whose answer was read whole back for the next request. */
  release(socket: Socket): void {
    socket.unref();
    socket.on("data", destroyOnData);
    this.idle.push(socket);
    this.wakeOne();
  }

  /** Closes the idle connections. */
  close(): void {
    for (const socket of this.idle.splice(0)) socket.destroy();
  }

  private wakeOne(): void {
    const [first] = this.waiting;
    if (!first) return;
    this.waiting.delete(first);
    first();
  }

  private waitForSlot(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      // On timeout `acquire` looks once more, then gives up.
      const timer = setTimeout(wake, timeoutMs);
      this.waiting.add(wake);
    });
  }

  private connect(timeoutMs: number): Promise<Socket> {
    const { origin, ca } = this.options;
    this.open++;
    const socket = this.isHttps
      ? tlsConnect({
          host: this.host,
          port: this.port,
          servername: isIP(this.host) ? undefined : this.host,
          ALPNProtocols: ["http/1.1"],
          ...(ca ? { ca } : {}),
          ...(this.tlsSession ? { session: this.tlsSession } : {}),
        })
      : netConnect({ host: this.host, port: this.port });
    if (this.isHttps) socket.on("session", (session: Buffer) => (this.tlsSession = session));
    socket.setNoDelay(true);
    // A request's errors reach its own listener; an idle connection's only close it.
    socket.on("error", () => undefined);
    socket.setTimeout(this.idleTimeoutMs);
    socket.on("timeout", () => {
      if (this.idle.includes(socket)) socket.destroy();
    });
    socket.once("close", () => {
      this.open--;
      const index = this.idle.indexOf(socket);
      if (index >= 0) this.idle.splice(index, 1);
      this.wakeOne();
    });
    return new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new HttpTransportError(
            "ConnectTimeout",
            `no connection to ${origin.host} in ${Math.round(timeoutMs)} ms`,
          ),
        );
      }, timeoutMs);
      const onError = (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new HttpTransportError(error.code ?? error.name, error.message));
      };
      socket.once("error", onError);
      socket.once(this.isHttps ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        resolve(socket);
      });
    });
  }
}

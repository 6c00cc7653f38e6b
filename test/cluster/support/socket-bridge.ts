/**
 * Pipes connections between loopback TCP ports and Unix sockets, to join the loopback of a network
 * namespace to the host's: a Unix socket is a file, reachable from both sides, while each namespace
 * has a loopback of its own. Bytes only (TLS stays end to end).
 *
 *   node --import tsx socket-bridge.ts tcp:127.0.0.1:6443=unix:/tmp/x/api.sock unix:/tmp/x/a.sock=tcp:127.0.0.1:6444
 *
 * Each argument is `<listen>=<connect>`. Prints "ready" once every listener is up.
 */
import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

/** A loopback TCP address or a Unix socket path. */
export type Endpoint = { port: number; host: string } | { path: string };

/** Parses `tcp:127.0.0.1:<port>` or `unix:<path>`. */
export function endpoint(spec: string): Endpoint {
  if (spec.startsWith("unix:")) return { path: spec.slice(5) };
  const match = /^tcp:(127\.0\.0\.1|localhost):(\d+)$/.exec(spec);
  // Loopback only: nothing this bridge opens is reachable from another machine.
  if (!match) throw new Error(`not a loopback tcp:host:port or unix:path: ${spec}`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** Starts one listener that pipes each connection to `target`; resolves with the listening server. */
export function bridge(listen: Endpoint, target: Endpoint): Promise<Server> {
  const server = createServer((incoming: Socket) => {
    const outgoing = "path" in target ? connect(target.path) : connect(target.port, target.host);
    incoming.pipe(outgoing).pipe(incoming);
    const close = () => {
      incoming.destroy();
      outgoing.destroy();
    };
    incoming.on("error", close);
    outgoing.on("error", close);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if ("path" in listen) {
      rmSync(listen.path, { force: true });
      server.listen(listen.path, () => resolve(server));
    } else {
      server.listen(listen.port, listen.host, () => resolve(server));
    }
  });
}

if (process.argv[1]?.endsWith("socket-bridge.ts")) {
  const pairs = process.argv.slice(2).map((arg) => {
    const [listen, target] = arg.split("=");
    if (!listen || !target) throw new Error(`expected <listen>=<connect>, got ${arg}`);
    return [endpoint(listen), endpoint(target)] as const;
  });
  await Promise.all(pairs.map(([listen, target]) => bridge(listen, target)));
  process.stdout.write("ready\n");
}

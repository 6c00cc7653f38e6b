import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";

/** An HTTP proxy in front of the Salesforce emulator that holds every REST call for a while. */
export interface SlowProxy {
  url: string;
  stop(): Promise<void>;
}

/**
 * Forwards everything to `target`, delaying `/services/data` calls by `delayMs`, so a backlog takes
 * long enough to kill a worker halfway through it. The Host header passes through, so the
 * emulator's token answer names the proxy as instance URL and every call comes back this way.
 */
export async function startSlowProxy(target: string, delayMs: number): Promise<SlowProxy> {
  const targetUrl = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const delay = incoming.url?.startsWith("/services/data") ? delayMs : 0;
    setTimeout(() => {
      const forwarded = httpRequest(
        {
          host: targetUrl.hostname,
          port: targetUrl.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on("error", () => {
        if (!outgoing.headersSent) outgoing.writeHead(502);
        outgoing.end();
      });
      incoming.pipe(forwarded);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

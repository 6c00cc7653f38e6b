import { createServer } from "node:net";

/** A port to listen on in local mode, and whether it is another one than asked for. */
export interface LocalPort {
  port: number;
  /** The asked port was taken, so a free one was picked. */
  movedFrom: number | undefined;
}

/** Listens on `port` of `host` and closes again; resolves the bound port, rejects with the listen error. */
function probe(port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : port));
    });
  });
}

/**
 * `preferred` when it is free on `host` (every interface when undefined), else a free port the OS
 * picks: a local run must not die because another program holds 8001. Only for local mode; in
 * production a taken port is an error the operator must see.
 */
export async function pickLocalPort(preferred: number, host?: string): Promise<LocalPort> {
  if (preferred === 0) return { port: 0, movedFrom: undefined };
  try {
    return { port: await probe(preferred, host), movedFrom: undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return { port: await probe(0, host), movedFrom: preferred };
  }
}

import { connect } from "node:net";
import { freePort, startChild, type ChildServer } from "./child-server.js";

/** A real redis-server process with no persistence, on a free loopback port. */
export interface RedisServer extends ChildServer {
  url: string;
}

async function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("error", () => resolve(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
  });
}

/** Starts `redis-server` (from Debian's package; `.ci/run` installs it). */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const child = await startChild(
    process.env.REDIS_SERVER_BIN ?? "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { name: "redis-server", port, ready: () => answersPing(port) },
  );
  return { ...child, url: `redis://127.0.0.1:${port}/0` };
}

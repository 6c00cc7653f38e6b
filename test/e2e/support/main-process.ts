import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "../../support/child-server.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** `node --import tsx src/main.ts <args>` running in a child process, with its output kept. */
export interface MainProcess {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until `probe` holds; fails early, with the output, when the process exits first. */
  waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** Sends `signal` and waits for the exit. */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the program as the image does, in the repository root, with exactly `env` plus PATH and
 * HOME: nothing from the test process's environment leaks into its configuration.
 */
export function spawnMain(args: string[], env: Record<string, string>): MainProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-20_000)));
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const describeOutput = () =>
    `\n--- stdout ---\n${stdout.slice(-3000)}\n--- stderr ---\n${stderr.slice(-3000)}`;
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitUntil(probe, what, timeoutMs = 30_000) {
      let hasExited = false;
      void exited.then(() => (hasExited = true));
      try {
        await waitFor(
          async () => {
            if (hasExited) throw new Error("exited");
            return probe();
          },
          timeoutMs,
          what,
        );
      } catch (error) {
        throw new Error(`${(error as Error).message}${describeOutput()}`, { cause: error });
      }
      if (hasExited) throw new Error(`the process exited before ${what}${describeOutput()}`);
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** True when `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.status === 200;
}

// The commands of `node dist/main.js`, once main.ts checked the Node.js version: the roles and the
// operations commands through one commander program (run-cli.ts), interrupts trapped, output flushed.
import { runCli } from "./run-cli.js";
import type { CliIo } from "./reporter.js";

/** First SIGINT/SIGTERM: the command stops at its next safe point; a second one exits at once (130). */
function trapInterrupts(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${signal}: stopping at the next safe point (again to stop at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

const io: CliIo = {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  isTTY: process.stdout.isTTY === true,
  interrupts: trapInterrupts,
};

/** Exits once stdout and stderr have taken everything written (a pipe is written asynchronously). */
function exitAfterFlush(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

runCli(process.argv.slice(2), io).then(
  (exit) => {
    if (exit !== "running") exitAfterFlush(exit);
  },
  (error: unknown) => {
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);

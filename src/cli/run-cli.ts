import { Command, CommanderError } from "commander";
import { ConfigError } from "../shared/errors.js";
import { CommandContext, UsageError } from "./command-context.js";
import { registerBackfillCommand } from "./commands/backfill-command.js";
import { registerDlqCommands } from "./commands/dlq-commands.js";
import { registerDoctorCommand } from "./commands/doctor-command.js";
import { registerReconcileCommand } from "./commands/reconcile-command.js";
import { registerReplayCommand } from "./commands/replay-command.js";
import { registerRoleCommands } from "./commands/role-commands.js";
import { registerTraceCommand } from "./commands/trace-command.js";
import { Reporter, type CliIo } from "./reporter.js";

/** How the program ends: an exit code, or `running` for a role that serves until SIGTERM. */
export type CliExit = number | "running";

/** The body of an operations command: true when all went well (exit 0), false when something failed (exit 1). */
export type OperationBody = (context: CommandContext, reporter: Reporter) => Promise<boolean>;

/** Runs an operations command: its context and reporter, its exit code, and the errors it may end with. */
export type OperationRunner = (name: string, body: OperationBody) => Promise<void>;

/** Exit codes: 0 all went well, 1 something failed or drift was found, 2 a usage error, 78 a bad setting (as the roles). */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 78 } as const;

/**
 * The one command line of the image (`node dist/main.js <command>`, `npm run cli --`,
 * `npx stripe-salesforce-sync`): the roles and the operations commands on commander, every one
 * with `--help`. Never exits the process itself: it answers the exit code (tests run it in-process).
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<CliExit> {
  let exit: CliExit = EXIT.ok;
  const program = new Command("stripe-salesforce-sync")
    .description(
      "Keeps a Salesforce org in step with Stripe: the service's roles and its operations toolkit.",
    )
    .option("--json", "print JSON lines even on a terminal (the default when stdout is not one)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError("(add --help for usage)");
  program.addHelpText(
    "after",
    `
Exit codes: 0 all went well; 1 something failed or drift was found (reconcile --fix: 0 once all drift is repaired);
2 a usage error or a setting the command needs is missing; 78 a setting is invalid.
Configuration: the same environment as the roles (README "Configuration"); secrets also as NAME_FILE.
Local mode: the commands find the queue, store and emulator of a running npm start through its state file.`,
  );

  const runOperation: OperationRunner = async (name, body) => {
    const isJson = program.opts<{ json?: boolean }>().json === true || !io.isTTY;
    const reporter = new Reporter(io, isJson, name);
    let context: CommandContext | undefined;
    const trap = io.interrupts?.();
    try {
      context = new CommandContext(io);
      if (trap) context.signal = trap.signal;
      exit = (await body(context, reporter)) ? EXIT.ok : EXIT.failed;
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof UsageError) {
        io.stderr.write(`${name}: ${message}\n`);
        exit = EXIT.usage;
      } else if (error instanceof ConfigError) {
        io.stderr.write(`configuration error: ${message}\n`);
        exit = EXIT.config;
      } else {
        if (isJson) reporter.item("error", { message }, message);
        io.stderr.write(`${name} failed: ${message}\n`);
        exit = EXIT.failed;
      }
    } finally {
      trap?.release();
      await context?.close();
    }
  };

  registerRoleCommands(program, io, (value) => void (exit = value));
  registerReplayCommand(program, runOperation);
  registerBackfillCommand(program, runOperation);
  registerDlqCommands(program, runOperation);
  registerReconcileCommand(program, runOperation);
  registerDoctorCommand(program, runOperation);
  registerTraceCommand(program, runOperation);

  try {
    // No command: role `all`, as before the operations commands (and as npm start runs it).
    const hasCommand = argv.some((arg) => !arg.startsWith("-"));
    const isHelp = argv.some((arg) => arg === "--help" || arg === "-h");
    await program.parseAsync(hasCommand || isHelp ? [...argv] : [...argv, "all"], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.help" ||
        error.code === "commander.version"
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.stderr.write(`configuration error: ${error.message}\n`);
      return EXIT.config;
    }
    throw error;
  }
  return exit;
}

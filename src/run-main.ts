import { loadConfig, type Role } from "./config/config.js";
import { ConfigError } from "./shared/errors.js";
import { startRoles } from "./roles/start-roles.js";

const USAGE = `usage: node dist/main.js <command>

commands:
  web                    the Stripe webhook server (PORT, default 8000)
  worker                 the SQS consumer that writes to Salesforce (health and metrics on WORKER_PORT, default 8001)
  all                    both in one process (local use; the default of npm start)
  metadata <dir>         write a Salesforce DX source folder with the custom objects and a permission set
  salesforce-emulator    run the local Salesforce emulator on its own (SALESFORCE_EMULATOR_PORT, default 8085)
`;

/** Runs one command of `node dist/main.js <command>` (main.ts checks the Node.js version first). */
export async function runMain(argv: string[]): Promise<void> {
  try {
    await runCommand(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(
      `fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}

async function runCommand(argv: string[]): Promise<void> {
  const [command = "all", ...rest] = argv;
  switch (command) {
    case "web":
    case "worker":
    case "all": {
      const config = loadConfig(command as Role);
      await startRoles(command as Role, config);
      return;
    }
    case "metadata": {
      const { runMetadataCommand } = await import("./roles/run-metadata-command.js");
      await runMetadataCommand(rest);
      return;
    }
    case "salesforce-emulator": {
      const { runEmulatorCommand } = await import("./roles/run-emulator-command.js");
      await runEmulatorCommand();
      return;
    }
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

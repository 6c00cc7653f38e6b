import type { Command } from "commander";
import { loadConfig, type Role } from "../../config/config.js";
import type { CliIo } from "../reporter.js";
import type { CliExit } from "../run-cli.js";

const ROLES: [Role, string][] = [
  ["web", "the Stripe webhook server (PORT, default 8000)"],
  ["worker", "the SQS consumer that writes to Salesforce (health and metrics on WORKER_PORT, default 8001)"],
  ["all", "both in one process (local use; the default, and what npm start runs)"],
];

/**
 * The service's roles and tools, as before the operations commands: `web`, `worker`, `all` (the
 * default), `metadata [dir]` and `salesforce-emulator`. A role serves until SIGTERM (`running`).
 */
export function registerRoleCommands(program: Command, io: CliIo, setExit: (exit: CliExit) => void): void {
  for (const [role, description] of ROLES) {
    program
      .command(role)
      .description(description)
      .action(async () => {
        const config = loadConfig(role, io.env);
        const { startRoles } = await import("../../roles/start-roles.js");
        await startRoles(role, config, io.env);
        setExit("running");
      });
  }
  program
    .command("metadata")
    .description("write a Salesforce DX source folder with the custom objects and a permission set")
    .argument("[dir]", "output folder", "salesforce-metadata")
    .action(async (dir: string) => {
      const { runMetadataCommand } = await import("../../roles/run-metadata-command.js");
      await runMetadataCommand([dir]);
    });
  program
    .command("salesforce-emulator")
    .description("run the local Salesforce emulator on its own (SALESFORCE_EMULATOR_PORT, default 8085)")
    .action(async () => {
      const { runEmulatorCommand } = await import("../../roles/run-emulator-command.js");
      await runEmulatorCommand();
      setExit("running");
    });
}

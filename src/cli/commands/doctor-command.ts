import type { Command } from "commander";
import { UsageError, type CommandContext } from "../command-context.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";
import { DOCTOR_CHECKS, type CheckResult } from "./doctor-checks.js";

async function doctor(context: CommandContext, reporter: Reporter): Promise<boolean> {
  const rows: CheckResult[] = [];
  if (context.config.isLocal)
    rows.push({
      check: "mode",
      status: "ok",
      detail: context.local
        ? `local: npm start (pid ${context.local.pid}) found through ${context.stateFile}`
        : `local: ${context.localProblem ?? "no local mode"}`,
    });
  for (const [name, check] of DOCTOR_CHECKS) {
    try {
      rows.push(...(await check(context)));
    } catch (error) {
      const isMissing = error instanceof UsageError;
      rows.push({
        check: name,
        status: isMissing && context.config.isLocal ? "skip" : "fail",
        detail: (error as Error).message,
        ...(isMissing ? {} : { fix: "see the detail" }),
      });
    }
  }
  reporter.table("check", ["check", "status", "detail", "fix"], rows as unknown as Record<string, unknown>[]);
  const count = (status: CheckResult["status"]) => rows.filter((row) => row.status === status).length;
  reporter.summary({ ok: count("ok"), warn: count("warn"), fail: count("fail"), skip: count("skip") });
  return count("fail") === 0;
}

/** `doctor`: checks everything the service needs and says how to fix what is wrong. */
export function registerDoctorCommand(program: Command, run: OperationRunner): void {
  program
    .command("doctor")
    .description(
      "check Salesforce (login, API usage, mapped objects), the queue (timeouts, redrive policy, dead letters, retention), Redis (reachable, eviction policy), the Stripe key and webhook endpoints, and Node; exit 1 when a check fails",
    )
    .action(() => run("doctor", (context, reporter) => doctor(context, reporter)));
}

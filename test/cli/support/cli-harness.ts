import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { runCli, type CliExit } from "../../../src/cli/run-cli.js";
import { DEFAULT_EMULATOR_CREDENTIALS } from "../../../src/emulator/salesforce/index.js";
import type { Infrastructure, Pipeline } from "../../e2e/support/pipeline.js";
import type { StripeApiStandIn } from "../../support/stripe-api-stand-in.js";

/** What one run of the command line printed and how it ended. */
export interface CliRun {
  code: CliExit;
  stdout: string;
  stderr: string;
  /** stdout's JSON lines. */
  lines: Array<Record<string, unknown>>;
  /** The lines of one `type`. */
  of(type: string): Array<Record<string, unknown>>;
  /** The `summary` line. */
  summary: Record<string, unknown>;
}

/** A test key the Stripe stand-in accepts. */
export const TEST_STRIPE_KEY = "sk_test_cliHarness";

/** The environment that points the command line at a pipeline's queue, Redis and emulator, and at the Stripe stand-in. */
export function cliEnv(
  infra: Infrastructure,
  pipeline: Pipeline,
  stripe?: StripeApiStandIn,
): Record<string, string> {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "error",
    SQS_QUEUE_URL: pipeline.queueUrl,
    SQS_DLQ_URL: pipeline.dlqUrl,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_SQS: infra.sqsServer.endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    REDIS_URL: infra.redisServer.url,
    SALESFORCE_LOGIN_URL: pipeline.emulator.url,
    SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
    SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
    LOCAL_STATE_FILE: join(mkdtempSync(join(tmpdir(), "cli-test-")), "none.json"),
    ...(stripe ? { STRIPE_API_KEY: TEST_STRIPE_KEY, STRIPE_API_BASE: stripe.url } : {}),
  };
}

/** Runs the command line in this process, as `node dist/main.js <argv>` would with stdout not a terminal. */
export async function cli(
  argv: string[],
  env: Record<string, string>,
  options: { isTTY?: boolean; signal?: AbortSignal } = {},
): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, {
    env,
    stdout,
    stderr,
    isTTY: options.isTTY ?? false,
    ...(options.signal
      ? { interrupts: () => ({ signal: options.signal as AbortSignal, release() {} }) }
      : {}),
  });
  const lines = out
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const of = (type: string) => lines.filter((line) => line.type === type);
  return { code, stdout: out, stderr: err, lines, of, summary: of("summary").at(-1) ?? {} };
}

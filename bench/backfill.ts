// npm run bench:backfill — `backfill` of BENCH_BACKFILL_RECORDS customers (default 10,000; the 50,000 row: set it) from a
// Stripe API stand-in (real paging, no rate limit, the CLI reading at STRIPE_READS_PER_SECOND=100)
// into the Salesforce emulator in its own process, once through Bulk API 2.0 jobs and once
// through collections, the CLI itself in a child process with its Redis store on a real redis-server.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import {
  DEFAULT_EMULATOR_CREDENTIALS,
  type EmulatorStatsSnapshot,
} from "../src/emulator/salesforce/index.js";
import { freePort, startChild, type ChildServer } from "../test/support/child-server.js";
import { startRedisServer } from "../test/support/redis-server.js";
import { generateStripeData, startStripeApiStandIn } from "../test/support/stripe-api-stand-in.js";
import { describeMachine, printTable } from "./support.js";

const records = Number(process.env.BENCH_BACKFILL_RECORDS ?? 10_000);
const repo = fileURLToPath(new URL("..", import.meta.url));

/** The Salesforce emulator in its own process, as `main.ts salesforce-emulator` runs it. */
async function startEmulator(): Promise<ChildServer & { url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(
    process.execPath,
    ["--import", "tsx", "src/main.ts", "salesforce-emulator"],
    {
      name: "salesforce-emulator",
      port,
      env: {
        SALESFORCE_EMULATOR_PORT: String(port),
        LOG_LEVEL: "warn",
        SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
        SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
        MAPPING_FILE: "",
      },
      ready: async () => (await fetch(`${url}/__emulator/stats`)).ok,
    },
  );
  return { ...child, url };
}

/** Runs the CLI to its end; answers its summary line and the wall time. */
async function runBackfill(
  via: string,
  env: Record<string, string>,
): Promise<{ summary: Record<string, unknown>; seconds: number; code: number | null }> {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/main.ts",
      "backfill",
      "--objects",
      "customers",
      "--via",
      via,
      "--restart",
      "--json",
    ],
    {
      cwd: repo,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const summary = out
    .split("\n")
    .filter((line) => line.includes('"type":"summary"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)[0];
  return { summary: summary ?? {}, seconds: (performance.now() - startedAt) / 1000, code };
}

async function main() {
  console.log(`machine: ${describeMachine()}`);
  const [redisServer, emulator, stripe] = await Promise.all([
    startRedisServer(),
    startEmulator(),
    startStripeApiStandIn({ rateLimit: false }),
  ]);
  const redis = new Redis(redisServer.url);
  try {
    stripe.seed(
      generateStripeData({ customers: records, startAt: Math.floor(Date.now() / 1000) - 400 * 86400 })
        .customers,
    );
    console.log(
      `backfill of ${records} Stripe customers; emulator, redis-server and the CLI each in their own process; Stripe stand-in in this one`,
    );
    const env = {
      NODE_ENV: "test",
      LOG_LEVEL: "error",
      LOCAL_STATE_FILE: join(mkdtempSync(join(tmpdir(), "bench-backfill-")), "none.json"),
      REDIS_URL: redisServer.url,
      SALESFORCE_LOGIN_URL: emulator.url,
      SALESFORCE_CLIENT_ID: DEFAULT_EMULATOR_CREDENTIALS.clientId,
      SALESFORCE_CLIENT_SECRET: DEFAULT_EMULATOR_CREDENTIALS.clientSecret,
      STRIPE_API_KEY: "sk_test_benchBackfill",
      STRIPE_API_BASE: stripe.url,
      STRIPE_READS_PER_SECOND: "100",
    };
    const rows: (string | number)[][] = [];
    for (const via of ["bulk", "collections"]) {
      await fetch(`${emulator.url}/__emulator/records`, { method: "DELETE" });
      await redis.flushall();
      const run = await runBackfill(via, env);
      const stats = (await (await fetch(`${emulator.url}/__emulator/stats`)).json()) as EmulatorStatsSnapshot;
      const landed = (
        (await (await fetch(`${emulator.url}/__emulator/records/Stripe_Customer__c`)).json()) as unknown[]
      ).length;
      if (run.code !== 0 || landed !== records)
        throw new Error(`backfill --via ${via} exited ${run.code} with ${landed} of ${records} records`);
      rows.push([
        via === "bulk"
          ? "Bulk API 2.0 (jobs of 10,000)"
          : "collections (200 per request, 5 per Composite call)",
        run.seconds.toFixed(1),
        Math.round(records / run.seconds),
        stats.apiCalls.total,
        ((1000 * stats.apiCalls.total) / records).toFixed(1),
        Number(run.summary.bulkJobs ?? 0),
        Number(run.summary.stripeRequests ?? 0),
      ]);
      console.log(`${via}: API calls by operation ${JSON.stringify(stats.apiCalls.byOperation)}`);
    }
    console.log();
    printTable(
      [
        `backfill (${records} customers)`,
        "wall s",
        "records/s",
        "Salesforce API calls",
        "calls / 1000 records",
        "bulk jobs",
        "Stripe requests",
      ],
      rows,
    );
    console.log(
      "wall time includes listing Stripe at 100 requests/s (100 objects each) and the CLI's start-up",
    );
  } finally {
    redis.disconnect();
    await Promise.all([redisServer.stop(), emulator.stop(), stripe.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

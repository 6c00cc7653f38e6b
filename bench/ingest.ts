// npm run bench:ingest — signed 3-5 KB webhooks at rising concurrency against the web role (production
// log level: one JSON access line per request) backed by a real SQS-compatible server, next to a bare
// node:http server measured in the same run; CPU time per request and RSS are read from /proc.
// BENCH_PROFILE=1 also writes a CPU profile of the web role and prints its top entries; BENCH_MAIN
// names another build's main.js to measure it the same way.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { startSqsServer, sqsEnv } from "../test/support/sqs-server.js";
import { freePort, waitFor } from "../test/support/child-server.js";
import { signPayload } from "../test/support/signing.js";
import { loadEvent } from "../test/sync/support/sync-fixtures.js";
import { printProfileSummary } from "./profile-summary.js";
import {
  cpuSeconds,
  describeMachine,
  drive,
  driveAtRate,
  peakRssMiB,
  printTable,
  rssMiB,
  type LoadResult,
} from "./support.js";

const SECRET = "whsec_bench_secret";
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = (process.env.BENCH_CONCURRENCY ?? "1,10,50,100").split(",").map(Number);
const logLevel = process.env.BENCH_LOG_LEVEL ?? "info";
/** The web role's entry (default dist/main.js); another build's, to compare two versions. */
const webMain = process.env.BENCH_MAIN ?? "dist/main.js";
const profileDir = process.env.BENCH_PROFILE ? join(".tmp", "profiles", `ingest-${Date.now()}`) : undefined;
const repo = fileURLToPath(new URL("..", import.meta.url));
/** The web role's NODE_OPTIONS: the chart's default (`webhook.nodeOptions`) unless BENCH_WEB_NODE_OPTIONS says otherwise. */
const webNodeOptions =
  process.env.BENCH_WEB_NODE_OPTIONS ??
  String(
    (
      parseYaml(readFileSync(join(repo, "charts", "stripe-salesforce-sync", "values.yaml"), "utf8")) as {
        webhook?: { nodeOptions?: unknown };
      }
    ).webhook?.nodeOptions ?? "",
  );
/** Real-shaped events of 3-5 KB, pretty-printed as Stripe sends them. */
const TEMPLATES = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "payment_intent.payment_failed",
] as const;

async function startProcess(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    // The web role's JSON lines go to /dev/null: written (as in production) but not read back here.
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/health`, { method: "GET" })).status < 500,
    20000,
    args.join(" "),
  );
  return child;
}

function signedRequests(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const event = loadEvent(TEMPLATES[i % TEMPLATES.length]!, { id: `evt_bench_${i}` });
    const object = event.data.object;
    object.id = `${String(object.id).split("_")[0]}_bench_${i}`;
    if ("customer" in object) object.customer = `cus_bench_${i % 20}`;
    const body = JSON.stringify(event, null, 2);
    return {
      method: "POST" as const,
      body,
      headers: { "content-type": "application/json", "stripe-signature": signPayload(body, SECRET) },
    };
  });
}

/** Runs `step` and returns its result with the CPU seconds each of `pids` used meanwhile. */
async function withCpu<T>(pids: number[], step: () => Promise<T>): Promise<{ result: T; cpu: number[] }> {
  const before = pids.map(cpuSeconds);
  const result = await step();
  return { result, cpu: pids.map((pid, i) => cpuSeconds(pid) - before[i]!) };
}

const microsPer = (cpu: number, count: number) => (count > 0 ? ((cpu * 1e6) / count).toFixed(0) : "-");

async function main() {
  console.log(`machine: ${describeMachine()}`);
  const sqs = await startSqsServer();
  const { queueUrl } = await sqs.createQueue("bench-ingest");
  const webPort = await freePort();
  const barePort = await freePort();
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const web = await startProcess(
    [...(profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : []), webMain, "web"],
    {
      ...sqsEnv(sqs.endpoint),
      NODE_ENV: "production",
      PORT: String(webPort),
      LOG_LEVEL: logLevel,
      SQS_QUEUE_URL: queueUrl,
      STRIPE_WEBHOOK_SECRET: SECRET,
      NODE_OPTIONS: webNodeOptions,
    },
    webPort,
  );
  const bare = await startProcess(
    ["--import", "tsx", "bench/bare-server.ts"],
    { PORT: String(barePort) },
    barePort,
  );
  const requests = signedRequests(200);
  const sizes = requests.map((r) => Buffer.byteLength(r.body)).sort((a, b) => a - b);
  console.log(
    `events: ${requests.length} signed, ${sizes[0]}-${sizes.at(-1)} bytes; web role LOG_LEVEL=${logLevel}, NODE_OPTIONS="${webNodeOptions}"`,
  );
  const webUrl = `http://127.0.0.1:${webPort}/webhook/stripe`;
  const bareUrl = `http://127.0.0.1:${barePort}/`;
  try {
    // Warm both servers up before measuring.
    await drive(webUrl, requests, { connections: 10, seconds: 2 });
    await drive(bareUrl, requests, { connections: 10, seconds: 2 });
    const rows: (string | number)[][] = [];
    for (const connections of levels) {
      const ingest = await withCpu([web.pid!, sqs.process.pid!], () =>
        drive(webUrl, requests, { connections, seconds }),
      );
      const ceiling = await withCpu([bare.pid!], () => drive(bareUrl, requests, { connections, seconds }));
      rows.push(row(`${connections} connections`, ingest, ceiling));
    }
    const peakAfterSteps = peakRssMiB(web.pid!);
    // Memory under a sustained load: RSS sampled every 5 s during the open-loop run.
    const rssSamples = [rssMiB(web.pid!)];
    const sampler = setInterval(() => rssSamples.push(rssMiB(web.pid!)), 5000);
    const fixed = await withCpu([web.pid!, sqs.process.pid!], () =>
      driveAtRate(webUrl, requests, {
        rate: 500,
        seconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 30),
      }),
    );
    clearInterval(sampler);
    rssSamples.push(rssMiB(web.pid!));
    // The bare server at the same rate: a process woken for each request costs more per request
    // than one kept busy, so the baseline of this row is measured at this rate too.
    const bareFixed = await withCpu([bare.pid!], () =>
      driveAtRate(bareUrl, requests, {
        rate: 500,
        seconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 30),
      }),
    );
    rows.push([
      "open loop, 500 req/s",
      fixed.result.requestsPerSecond.toFixed(0),
      fixed.result.p50Ms,
      fixed.result.p99Ms,
      microsPer(fixed.cpu[0]!, fixed.result.ok),
      bareFixed.result.requestsPerSecond.toFixed(0),
      microsPer(bareFixed.cpu[0]!, bareFixed.result.ok),
      "-",
      `${fixed.result.non2xx + fixed.result.errors}`,
    ]);
    console.log();
    printTable(
      [
        "load",
        "ingest req/s",
        "p50 ms",
        "p99 ms",
        "web CPU µs / webhook",
        "bare node:http req/s",
        "bare CPU µs / req",
        "ingest / bare",
        "non-2xx + errors",
      ],
      rows,
    );
    console.log();
    console.log(
      `web role RSS every 5 s during the 500 req/s run (${fixed.result.total} requests): ${rssSamples.join(", ")} MiB`,
    );
    console.log(`web role peak RSS (VmHWM) after the concurrency steps: ${peakAfterSteps} MiB`);
    console.log(
      `SQS server CPU per accepted webhook in the 500 req/s run: ${microsPer(fixed.cpu[1]!, fixed.result.ok)} µs`,
    );
  } finally {
    const exited = new Promise((resolve) => web.once("exit", resolve));
    web.kill("SIGTERM");
    bare.kill("SIGTERM");
    await exited;
    await sqs.stop();
  }
  if (profileDir) {
    const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
    if (file) printProfileSummary(join(profileDir, file));
  }
}

function row(
  label: string,
  ingest: { result: LoadResult; cpu: number[] },
  ceiling: { result: LoadResult; cpu: number[] },
): (string | number)[] {
  return [
    label,
    ingest.result.requestsPerSecond.toFixed(0),
    ingest.result.p50Ms,
    ingest.result.p99Ms,
    microsPer(ingest.cpu[0]!, ingest.result.ok),
    ceiling.result.requestsPerSecond.toFixed(0),
    microsPer(ceiling.cpu[0]!, ceiling.result.ok),
    `${((100 * ingest.result.requestsPerSecond) / ceiling.result.requestsPerSecond).toFixed(0)}%`,
    `${ingest.result.non2xx + ingest.result.errors}`,
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

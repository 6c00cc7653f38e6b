// npm run bench:ingest — signed webhooks at rising concurrency against the web role backed by a
// real SQS-compatible server, next to a bare node:http server measured in the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startSqsServer, sqsEnv } from "../test/support/sqs-server.js";
import { freePort, waitFor } from "../test/support/child-server.js";
import { makeEvent, signPayload } from "../test/support/signing.js";
import { describeMachine, drive, driveAtRate, printTable, rssMiB, type LoadResult } from "./support.js";

const SECRET = "whsec_bench_secret";
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = (process.env.BENCH_CONCURRENCY ?? "1,10,50,100").split(",").map(Number);
const repo = fileURLToPath(new URL("..", import.meta.url));

async function startProcess(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, {
    cwd: repo,
    env: { ...process.env, ...env },
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
    const body = JSON.stringify(
      makeEvent("payment_intent.succeeded", {
        id: `pi_bench_${i}`,
        object: "payment_intent",
        amount: 2000 + i,
        currency: "usd",
        customer: `cus_bench_${i % 20}`,
        status: "succeeded",
      }),
    );
    return {
      method: "POST" as const,
      body,
      headers: { "content-type": "application/json", "stripe-signature": signPayload(body, SECRET) },
    };
  });
}

async function main() {
  console.log(`machine: ${describeMachine()}`);
  const sqs = await startSqsServer();
  const { queueUrl } = await sqs.createQueue("bench-ingest");
  const webPort = await freePort();
  const barePort = await freePort();
  const web = await startProcess(
    ["dist/main.js", "web"],
    {
      ...sqsEnv(sqs.endpoint),
      NODE_ENV: "production",
      PORT: String(webPort),
      LOG_LEVEL: "warn",
      SQS_QUEUE_URL: queueUrl,
      STRIPE_WEBHOOK_SECRET: SECRET,
    },
    webPort,
  );
  const bare = await startProcess(
    ["--import", "tsx", "bench/bare-server.ts"],
    { PORT: String(barePort) },
    barePort,
  );
  const requests = signedRequests(200);
  try {
    // Warm both servers up before measuring.
    await drive(`http://127.0.0.1:${webPort}/webhook/stripe`, requests, { connections: 10, seconds: 2 });
    await drive(`http://127.0.0.1:${barePort}/`, requests, { connections: 10, seconds: 2 });
    const rows: (string | number)[][] = [];
    for (const connections of levels) {
      const ingest = await drive(`http://127.0.0.1:${webPort}/webhook/stripe`, requests, {
        connections,
        seconds,
      });
      const ceiling = await drive(`http://127.0.0.1:${barePort}/`, requests, { connections, seconds });
      rows.push(row(`${connections} connections`, ingest, ceiling));
    }
    // Memory under a sustained load: RSS sampled every 5 s during the open-loop run.
    const rssSamples = [rssMiB(web.pid!)];
    const sampler = setInterval(() => rssSamples.push(rssMiB(web.pid!)), 5000);
    const fixed = await driveAtRate(`http://127.0.0.1:${webPort}/webhook/stripe`, requests, {
      rate: 500,
      seconds: Number(process.env.BENCH_SUSTAINED_SECONDS ?? 30),
    });
    clearInterval(sampler);
    rssSamples.push(rssMiB(web.pid!));
    rows.push([
      "open loop, 500 req/s",
      fixed.requestsPerSecond.toFixed(0),
      fixed.p50Ms,
      fixed.p99Ms,
      "-",
      "-",
      `${fixed.non2xx + fixed.errors}`,
    ]);
    console.log();
    printTable(
      [
        "load",
        "ingest req/s",
        "p50 ms",
        "p99 ms",
        "bare node:http req/s",
        "ingest / bare",
        "non-2xx + errors",
      ],
      rows,
    );
    console.log();
    console.log(
      `web role RSS every 5 s during the 500 req/s run (${fixed.total} requests): ${rssSamples.join(", ")} MiB`,
    );
  } finally {
    web.kill("SIGTERM");
    bare.kill("SIGTERM");
    await sqs.stop();
  }
}

function row(label: string, ingest: LoadResult, ceiling: LoadResult): (string | number)[] {
  return [
    label,
    ingest.requestsPerSecond.toFixed(0),
    ingest.p50Ms,
    ingest.p99Ms,
    ceiling.requestsPerSecond.toFixed(0),
    `${((100 * ingest.requestsPerSecond) / ceiling.requestsPerSecond).toFixed(0)}%`,
    `${ingest.non2xx + ingest.errors}`,
  ];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

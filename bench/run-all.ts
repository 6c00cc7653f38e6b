// npm run bench — builds (the ingest bench runs dist/main.js), then runs the ingest, worker and
// backfill benchmarks one after the other, each in its own process with this one's output and environment.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const steps: { title: string; args: string[] }[] = [
  { title: "build (tsc -p tsconfig.build.json)", args: [tsc, "-p", "tsconfig.build.json"] },
  { title: "ingest (bench/ingest.ts)", args: ["--import", "tsx", "bench/ingest.ts"] },
  { title: "worker (bench/worker.ts)", args: ["--import", "tsx", "bench/worker.ts"] },
  { title: "backfill (bench/backfill.ts)", args: ["--import", "tsx", "bench/backfill.ts"] },
];

function runStep(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  for (const step of steps) {
    console.log(`\n## ${step.title}\n`);
    const code = await runStep(step.args);
    if (code !== 0) {
      console.error(`${step.title} failed (exit ${code})`);
      process.exit(code);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

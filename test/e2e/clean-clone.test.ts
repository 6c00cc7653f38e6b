import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect } from "chai";
import { LOCAL_WEBHOOK_SECRET } from "../../src/roles/local-defaults.js";
import { freePort, waitFor } from "../support/child-server.js";
import { signPayload } from "../support/signing.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Node 24 (this test's own) first on PATH, as scripts/node24.sh would put it. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH ?? "/usr/bin:/bin"}`;

/** True when npm answers from its registry within 15 s. */
async function registryAnswers(): Promise<boolean> {
  try {
    await run("npm", ["ping"], { timeout: 15_000, env: { ...process.env, PATH } });
    return true;
  } catch {
    return false;
  }
}

// The README's quick start, as a newcomer runs it: a fresh clone, `npm ci`, `npm start`, one signed
// event, and the record in the local Salesforce emulator. It clones the committed HEAD: uncommitted
// changes are not in it.
describe("end to end: the README's quick start from a clean clone", function () {
  this.timeout(600_000);
  let clone: string;
  let app: ChildProcess | undefined;
  let output = "";

  before(async function () {
    // It does not depend on the queue server: once, in the default (fauxqs) pass of npm test.
    if (process.env.SQS_TEST_SERVER === "moto") this.skip();
    if (!(await registryAnswers())) {
      console.log("      skipped: the npm registry does not answer (`npm ping`), so `npm ci` cannot run");
      this.skip();
    }
    clone = mkdtempSync(join(tmpdir(), "stripe-salesforce-sync-clone-"));
    await run("git", ["clone", "--quiet", REPO_ROOT, clone], { timeout: 120_000 });
  });

  after(async () => {
    if (app?.pid !== undefined && app.exitCode === null) {
      // npm start runs bash, which runs node: stop the whole group this test started.
      process.kill(-app.pid, "SIGTERM");
      await new Promise((resolve) => app?.once("exit", resolve));
    }
    if (clone) rmSync(clone, { recursive: true, force: true });
  });

  it("npm ci && npm start, then a signed event lands in the emulator", async () => {
    const started = performance.now();
    await run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: clone,
      timeout: 400_000,
      env: { ...process.env, PATH },
      maxBuffer: 16 * 1024 * 1024,
    });
    console.log(`      (npm ci took ${((performance.now() - started) / 1000).toFixed(0)} s)`);

    const [port, workerPort, emulatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
    app = spawn("npm", ["start"], {
      cwd: clone,
      detached: true,
      env: {
        PATH,
        ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        SALESFORCE_EMULATOR_PORT: String(emulatorPort),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    app.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    app.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
    await waitFor(
      async () => app?.exitCode === null && (await fetch(`http://127.0.0.1:${port}/health`)).ok,
      120_000,
      "npm start to answer /health",
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    expect(output).to.include("send Stripe webhooks to");

    const payload = readFileSync(join(clone, "test/fixtures/stripe/customer.updated.json"), "utf8");
    const answer = await fetch(`http://127.0.0.1:${port}/webhook/stripe`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signPayload(payload, LOCAL_WEBHOOK_SECRET),
      },
      body: payload,
    });
    expect(answer.status, await answer.text()).to.equal(200);
    let records: { Stripe_Customer_Id__c?: string }[] = [];
    await waitFor(
      async () => {
        const listed = await fetch(`http://127.0.0.1:${emulatorPort}/__emulator/records/Stripe_Customer__c`);
        records = (await listed.json()) as typeof records;
        return records.length > 0;
      },
      30_000,
      "the customer in the emulator",
    );
    expect(records[0]?.Stripe_Customer_Id__c).to.equal("cus_RnQk1aB2cD3eF4");
  });
});

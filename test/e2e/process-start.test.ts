import { createServer, type Server } from "node:net";
import { expect } from "chai";
import { HANDLED_EVENT_TYPES } from "../../src/domain/sync/event-handlers.js";
import { LOCAL_WEBHOOK_SECRET } from "../../src/roles/local-defaults.js";
import { freePort } from "../support/child-server.js";
import { signPayload } from "../support/signing.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { answers200, spawnMain, type MainProcess } from "./support/main-process.js";

/** Waits for the exit, killing the process (and failing) if it is still running after `timeoutMs`. */
async function exitWithin(
  child: MainProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.process.kill("SIGKILL");
      reject(new Error(`still running after ${timeoutMs} ms; stderr: ${child.stderr()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([child.exited, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

describe("end to end: starting the program", function () {
  this.timeout(90_000);
  const processes: MainProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.kill("SIGKILL")));
  });

  it("local mode with no configuration takes a signed webhook to the emulator, with one correlation id on the webhook's and the worker's log lines, and stops on SIGTERM", async () => {
    const [port, workerPort, emulatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const app = spawnMain(["all"], {
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      SALESFORCE_EMULATOR_PORT: String(emulatorPort),
    });
    processes.push(app);
    await app.waitUntil(() => answers200(`http://127.0.0.1:${port}/health`), "/health to answer 200", 60_000);

    const payload = JSON.stringify(loadEvent("customer.updated"));
    const response = await fetch(`http://127.0.0.1:${port}/webhook/stripe`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signPayload(payload, LOCAL_WEBHOOK_SECRET),
        "x-request-id": "e2e-trace-1",
      },
      body: payload,
    });
    expect(response.status, await response.text()).to.equal(200);

    let records: Array<Record<string, unknown>> = [];
    await app.waitUntil(
      async () => {
        const answer = await fetch(`http://127.0.0.1:${emulatorPort}/__emulator/records/Stripe_Customer__c`);
        records = (await answer.json()) as Array<Record<string, unknown>>;
        return records.length > 0;
      },
      "the customer to reach the local emulator",
      30_000,
    );
    expect(records).to.have.length(1);
    expect(records[0]).to.include({
      Stripe_Customer_Id__c: "cus_RnQk1aB2cD3eF4",
      Name: "Jenny Rosen",
      Last_Stripe_Event_Id__c: "evt_1QxCustUpdated0001",
    });

    // JSON lines on stdout; the webhook's request line and the worker's outcome share the id.
    const traced = () =>
      app
        .stdout()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.correlationId === "e2e-trace-1");
    await app.waitUntil(async () => traced().some((l) => l.outcome === "applied"), "the worker's log line");
    expect(traced().find((l) => l.message === "request")).to.include({
      path: "/webhook/stripe",
      status: 200,
      eventId: "evt_1QxCustUpdated0001",
      outcome: "accepted",
    });
    expect(traced().find((l) => l.outcome === "applied")).to.include({
      eventId: "evt_1QxCustUpdated0001",
      eventType: "customer.updated",
    });

    app.process.kill("SIGTERM");
    const exit = await exitWithin(app, 30_000);
    expect(exit, `stderr: ${app.stderr()}`).to.deep.equal({ code: 0, signal: null });
  });

  it("local mode whose worker and emulator ports are taken moves them to free ports, says so in the banner, and still lands the event", async () => {
    const [port, workerPort, emulatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const squatters: Server[] = [];
    const squat = (taken: number, host?: string) =>
      new Promise<void>((resolve) => {
        const server = createServer();
        squatters.push(server);
        server.listen(taken, host, () => resolve());
      });
    await Promise.all([squat(workerPort), squat(emulatorPort, "127.0.0.1")]);
    try {
      const app = spawnMain(["all"], {
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        SALESFORCE_EMULATOR_PORT: String(emulatorPort),
      });
      processes.push(app);
      await app.waitUntil(async () => app.stdout().includes("is running"), "the banner", 60_000);
      const banner = app.stdout().slice(app.stdout().indexOf("is running"));
      expect(banner).to.include(`WORKER_PORT ${workerPort} is taken`);
      expect(banner).to.include(`SALESFORCE_EMULATOR_PORT ${emulatorPort} is taken`);
      for (const type of HANDLED_EVENT_TYPES) expect(banner).to.include(type);
      const emulatorUrl = /local Salesforce emulator: (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
      expect(emulatorUrl).to.be.a("string").and.not.include(`:${emulatorPort}`);

      const payload = JSON.stringify(loadEvent("customer.updated"));
      const response = await fetch(`http://127.0.0.1:${port}/webhook/stripe`, {
        method: "POST",
        headers: { "stripe-signature": signPayload(payload, LOCAL_WEBHOOK_SECRET) },
        body: payload,
      });
      expect(response.status, await response.text()).to.equal(200);
      await app.waitUntil(
        async () =>
          ((await (await fetch(`${emulatorUrl}/__emulator/records/Stripe_Customer__c`)).json()) as unknown[])
            .length === 1,
        "the customer in the emulator on its new port",
      );
    } finally {
      for (const server of squatters) server.close();
    }
  });

  describe("a configuration mistake stops the worker at start-up, naming the variable", () => {
    /** A complete production worker configuration; no server behind any of it is needed. */
    const production: Record<string, string> = {
      NODE_ENV: "production",
      SQS_QUEUE_URL: "http://127.0.0.1:1/000000000000/stripe-events",
      AWS_REGION: "us-east-1",
      REDIS_URL: "redis://127.0.0.1:1",
      SALESFORCE_LOGIN_URL: "http://127.0.0.1:1",
      SALESFORCE_CLIENT_ID: "client-id",
      SALESFORCE_CLIENT_SECRET: "client-secret",
      LOG_LEVEL: "warn",
    };

    async function startWorkerWith(env: Record<string, string>) {
      const worker = spawnMain(["worker"], env);
      processes.push(worker);
      const exit = await exitWithin(worker, 30_000);
      return { ...exit, stderr: worker.stderr() };
    }

    it("SQS_QUEUE_URL missing", async () => {
      const { SQS_QUEUE_URL: _omitted, ...env } = production;
      const result = await startWorkerWith(env);
      expect(result.code, result.stderr).to.not.equal(0).and.not.equal(null);
      expect(result.stderr).to.include("configuration error").and.include("SQS_QUEUE_URL");
      expect(result.stderr).to.not.include("REDIS_URL");
    });

    it("PORT=abc", async () => {
      const result = await startWorkerWith({ ...production, PORT: "abc" });
      expect(result.code, result.stderr).to.not.equal(0).and.not.equal(null);
      expect(result.stderr)
        .to.include("configuration error")
        .and.match(/\bPORT\b/);
    });

    it("SALESFORCE_AUTH_FLOW=jwt without SALESFORCE_PRIVATE_KEY_FILE", async () => {
      const { SALESFORCE_CLIENT_SECRET: _secret, ...env } = production;
      const result = await startWorkerWith({
        ...env,
        SALESFORCE_AUTH_FLOW: "jwt",
        SALESFORCE_USERNAME: "integration@example.com",
      });
      expect(result.code, result.stderr).to.not.equal(0).and.not.equal(null);
      expect(result.stderr).to.include("configuration error").and.include("SALESFORCE_PRIVATE_KEY_FILE");
      expect(result.stderr).to.not.include("SALESFORCE_USERNAME");
    });
  });
});

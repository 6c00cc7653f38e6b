import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { LOCAL_WEBHOOK_SECRET } from "../../src/roles/local-defaults.js";
import { answers200, spawnMain, type MainProcess } from "../e2e/support/main-process.js";
import { freePort } from "../support/child-server.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.js";
import { signPayload } from "../support/signing.js";
import { loadEvent } from "../sync/support/sync-fixtures.js";
import { otelEnv } from "./support/traced-process.js";

const MODULE_HOOK = fileURLToPath(new URL("./support/record-opentelemetry-modules.mjs", import.meta.url));

/** The program's JSON lines on stdout. */
const jsonLines = (app: MainProcess) =>
  app
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("tracing: the program as it runs", function () {
  this.timeout(120_000);
  let receiver: OtlpReceiver;
  let workDir: string;
  let app: MainProcess | undefined;

  before(async () => {
    receiver = await startOtlpReceiver();
    workDir = mkdtempSync(join(tmpdir(), "tracing-program-"));
  });
  after(async () => {
    await receiver?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await app?.kill("SIGKILL");
    app = undefined;
    receiver.clear();
  });

  /** Runs local mode (`all`) with `env`, recording the @opentelemetry modules it loads; sends one event. */
  async function runWithOneEvent(name: string, env: Record<string, string>) {
    const [port, workerPort, emulatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const modulesLog = join(workDir, `${name}-modules.log`);
    app = spawnMain(["all"], {
      PORT: String(port),
      WORKER_PORT: String(workerPort),
      SALESFORCE_EMULATOR_PORT: String(emulatorPort),
      LOCAL_STATE_FILE: join(workDir, `${name}-state.json`),
      NODE_OPTIONS: `--import=${MODULE_HOOK}`,
      OTEL_MODULES_LOG: modulesLog,
      ...env,
    });
    await app.waitUntil(() => answers200(`http://127.0.0.1:${port}/health`), "/health to answer 200", 60_000);
    const payload = JSON.stringify(loadEvent("customer.updated"));
    const response = await fetch(`http://127.0.0.1:${port}/webhook/stripe`, {
      method: "POST",
      headers: {
        "stripe-signature": signPayload(payload, LOCAL_WEBHOOK_SECRET),
        "x-request-id": `corr-${name}`,
      },
      body: payload,
    });
    expect(response.status, await response.text()).to.equal(200);
    await app.waitUntil(
      async () =>
        jsonLines(app!).some((line) => line.message === "event handled" && line.outcome === "applied"),
      "the worker's line for the event",
    );
    const modules = existsSync(modulesLog)
      ? readFileSync(modulesLog, "utf8").split("\n").filter(Boolean)
      : [];
    return { app, modules };
  }

  it("with no OTEL_* variable, loads no OpenTelemetry SDK module, exports nothing and logs no trace id", async () => {
    const { app, modules } = await runWithOneEvent("off", {});
    // The API alone is loaded anyway, by prom-client (its exemplars); nothing else of OpenTelemetry.
    expect(modules.filter((url) => !url.includes("/@opentelemetry/api/"))).to.deep.equal([]);
    const lines = jsonLines(app).filter((line) => line.correlationId === "corr-off");
    expect(lines.length).to.be.at.least(2);
    for (const line of lines) expect(line).to.not.have.property("traceId");
    expect(receiver.requests()).to.equal(0);
  });

  it("with an OTLP endpoint, traces the event end to end, logs its trace id beside its correlation id, and exports on SIGTERM", async () => {
    // Batches leave every minute only: what the receiver gets, the program sent while stopping.
    const { app, modules } = await runWithOneEvent("on", {
      ...otelEnv(receiver),
      OTEL_BSP_SCHEDULE_DELAY: "60000",
    });
    expect(modules.some((url) => url.includes("/@opentelemetry/sdk-node/"))).to.equal(true);
    expect(receiver.requests()).to.equal(0);
    const exit = await app.kill("SIGTERM");
    expect(exit, app.stderr()).to.deep.equal({ code: 0, signal: null });

    const spans = receiver.spans();
    const request = spans.find((span) => span.name === "POST /webhook/stripe");
    expect(request, spans.map((span) => span.name).join(", ")).to.not.equal(undefined);
    const trace = spans.filter((span) => span.traceId === request!.traceId);
    expect(trace.map((span) => span.name)).to.include.members([
      "POST /webhook/stripe",
      "send stripe-events",
      "process stripe-events",
      "sync group",
    ]);
    const writes = trace.filter((span) => span.name.startsWith("salesforce "));
    expect(writes.some((span) => span.attributes["salesforce.record_count"] === 1)).to.equal(true);
    expect(request!.resource["service.name"]).to.equal("sync-under-test");

    const lines = jsonLines(app).filter((line) => line.correlationId === "corr-on");
    expect(lines.find((line) => line.message === "request")).to.include({ traceId: request!.traceId });
    expect(lines.find((line) => line.message === "event handled")).to.include({ traceId: request!.traceId });
  });
});

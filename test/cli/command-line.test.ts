import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/child-server.js";
import { answers200, spawnMain, type MainProcess } from "../e2e/support/main-process.js";
import { cli } from "./support/cli-harness.js";

const COMMANDS = [
  ["replay"],
  ["backfill"],
  ["dlq", "list"],
  ["dlq", "show"],
  ["dlq", "redrive"],
  ["reconcile"],
  ["doctor"],
  ["trace"],
  ["web"],
  ["worker"],
  ["all"],
  ["metadata"],
  ["salesforce-emulator"],
];

describe("cli: the command line", function () {
  this.timeout(90_000);
  const nowhere = () => ({
    NODE_ENV: "test",
    LOCAL_STATE_FILE: join(mkdtempSync(join(tmpdir(), "cli-")), "state.json"),
  });

  it("answers --help for every command with exit code 0", async () => {
    for (const command of COMMANDS) {
      const run = await cli([...command, "--help"], {});
      expect(run.code, command.join(" ")).to.equal(0);
      expect(run.stdout, command.join(" ")).to.include(`Usage: stripe-salesforce-sync ${command.join(" ")}`);
    }
  });

  it("exits 2 on a usage error: an unknown command, a bad option value, a missing required option", async () => {
    const unknown = await cli(["bogus"], {});
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include("unknown command 'bogus'");
    expect((await cli(["dlq", "list", "--limit", "zero"], nowhere())).code).to.equal(2);
    expect((await cli(["backfill", "--via", "fax"], nowhere())).code).to.equal(2);
    expect((await cli(["replay"], nowhere())).code).to.equal(2);
  });

  it("says plainly that no local mode is running when nothing is configured, exit 2; a bad setting exits 78", async () => {
    const run = await cli(["dlq", "list"], nowhere());
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(
      /the queue is not configured \(no local mode is running \(npm start writes .*state\.json while it runs\)/,
    );
    const replay = await cli(["replay", "--since", "2026-11-01T00:00:00Z"], nowhere());
    expect(replay.stderr).to.include("set STRIPE_API_KEY");
    const bad = await cli(["doctor"], { ...nowhere(), BACKFILL_BULK_THRESHOLD: "many" });
    expect(bad.code).to.equal(78);
    expect(bad.stderr).to.include("BACKFILL_BULK_THRESHOLD");
  });

  it("on a terminal prints a table and a summary for a person; otherwise JSON lines (--json forces them)", async () => {
    const human = await cli(["doctor"], nowhere(), { isTTY: true });
    expect(human.stdout).to.match(/^check\s+status\s+detail/m);
    expect(human.lines).to.deep.equal([]);
    const json = await cli(["--json", "doctor"], nowhere(), { isTTY: true });
    expect(json.of("check").length).to.be.greaterThan(3);
    expect(json.summary).to.have.property("fail");
  });

  describe("local mode", () => {
    let app: MainProcess | undefined;
    afterEach(async () => {
      await app?.kill("SIGKILL");
    });

    it("npm start announces its queue and emulator in the state file, the commands use them, and the file goes when it stops", async () => {
      const stateFile = join(mkdtempSync(join(tmpdir(), "cli-local-")), "state.json");
      const [port, workerPort, emulatorPort] = await Promise.all([freePort(), freePort(), freePort()]);
      app = spawnMain(["all"], {
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        SALESFORCE_EMULATOR_PORT: String(emulatorPort),
        LOCAL_STATE_FILE: stateFile,
      });
      await app.waitUntil(
        () => answers200(`http://127.0.0.1:${workerPort}/health/ready`),
        "the worker to be ready",
        60_000,
      );
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as Record<string, unknown>;
      expect(state).to.include({ pid: app.process.pid, store: "memory" });
      expect(state.salesforce).to.include({ loginUrl: `http://127.0.0.1:${emulatorPort}` });

      const run = await cli(["doctor"], { NODE_ENV: "development", LOCAL_STATE_FILE: stateFile });
      expect(run.code, JSON.stringify(run.lines)).to.equal(0);
      expect(run.of("check").find((c) => c.check === "mode")?.detail).to.include(
        `pid ${String(app.process.pid)}`,
      );
      expect(run.of("check").find((c) => c.check === "salesforce login")?.status).to.equal("ok");
      expect(run.of("check").find((c) => c.check === "dead-letter queue")?.status).to.equal("ok");

      const exit = await app.kill("SIGTERM");
      expect(exit.code).to.equal(0);
      expect(existsSync(stateFile), "removed on exit").to.equal(false);
      const after = await cli(["dlq", "list"], { NODE_ENV: "development", LOCAL_STATE_FILE: stateFile });
      expect(after.code).to.equal(2);
      expect(after.stderr).to.include("no local mode is running");
    });
  });
});

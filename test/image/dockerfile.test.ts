import { expect } from "chai";
import { spawnSync, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startChild, type ChildServer } from "../support/child-server.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { sqsEnv, startSqsServer, type SqsServer } from "../support/sqs-server.js";

const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  keyword: string;
  args: string;
}

/** Splits a Dockerfile into stages of instructions (comments and line continuations handled). */
function parseDockerfile(text: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const logical = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const args = new Map<string, string>();
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === "ARG" && stages.length === 0) {
      const [name, value = ""] = rest.split("=");
      args.set(name!.trim(), value.trim());
      continue;
    }
    if (upper === "FROM") {
      const [image = "", , name] = rest.split(/\s+/);
      const resolvedImage = image.replace(/\$\{?(\w+)\}?/g, (_, arg: string) => args.get(arg) ?? "");
      stages.push({ from: resolvedImage, ...(name ? { name } : {}), instructions: [] });
      continue;
    }
    stages[stages.length - 1]?.instructions.push({ keyword: upper, args: rest });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(repoRoot, "Dockerfile"), "utf8"));
const finalStage = stages[stages.length - 1]!;
const all = (stage: typeof finalStage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe("the container image (Dockerfile)", () => {
  it("builds on Node 24 in stages and compiles TypeScript in the build stage", () => {
    expect(stages.length).to.be.greaterThan(1);
    for (const stage of stages) expect(stage.from).to.match(/^node:24[-.]/);
    const build = stages.find((s) => all(s, "RUN").some((r) => r.includes("npm run build")));
    expect(build, "a stage runs npm run build").to.not.equal(undefined);
    expect(all(build!, "RUN").some((r) => /npm ci(?!.*--omit=dev)/.test(r))).to.equal(true);
  });

  it("ships only production dependencies and dist/ in the final stage", () => {
    const copies = all(finalStage, "COPY");
    const nodeModules = copies.find((c) => /\bnode_modules\b/.test(c));
    const fromStage = /--from=(\S+)/.exec(nodeModules ?? "")?.[1];
    const depsStage = stages.find((s) => s.name === fromStage);
    expect(depsStage, `node_modules comes from stage ${fromStage}`).to.not.equal(undefined);
    expect(all(depsStage!, "RUN").some((r) => /npm ci .*--omit=dev/.test(r))).to.equal(true);
    expect(copies.some((c) => /--from=\S+.*\bdist\b/.test(c))).to.equal(true);
    expect(
      copies.some((c) => /\bsrc\b/.test(c)),
      "no sources in the final image",
    ).to.equal(false);
  });

  it("runs as a non-root user with NODE_ENV=production and the role as the container argument", () => {
    const users = all(finalStage, "USER");
    expect(users.length).to.be.greaterThan(0);
    const user = users[users.length - 1]!.split(":")[0]!;
    expect(user).to.not.be.oneOf(["root", "0"]);
    if (/^\d+$/.test(user)) expect(Number(user)).to.equal(10001);
    expect(all(finalStage, "ENV").join(" ")).to.match(/\bNODE_ENV=production\b/);
    // Exec form (JSON arrays), so node is PID 1's child-free process and receives SIGTERM itself.
    expect(all(finalStage, "ENTRYPOINT").map((a) => JSON.parse(a) as unknown)).to.deep.equal([
      ["node", "dist/main.js"],
    ]);
    expect(all(finalStage, "CMD").map((a) => JSON.parse(a) as unknown)).to.deep.equal([["web"]]);
  });

  it("keeps the build context to package files, tsconfig and src (.dockerignore)", () => {
    const patterns = readFileSync(join(repoRoot, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(patterns[0]).to.equal("**");
    const allowed = patterns.filter((p) => p.startsWith("!")).map((p) => p.slice(1));
    expect(allowed).to.have.members([
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "src/**",
    ]);
  });
});

/** Every file path under `dir`, relative to it. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/** `node dist/main.js <args>` run from the app directory, as the image's ENTRYPOINT runs from /app. */
function entrypoint(appDir: string, ...args: string[]): [string, string[]] {
  // `exec` makes node the process the test signals, as it is PID 1's command in the container.
  return [
    "/bin/sh",
    ["-c", 'cd "$1" && shift && exec "$@"', "sh", appDir, process.execPath, "dist/main.js", ...args],
  ];
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/**
 * Replays the image's production stage without Docker: `npm ci --omit=dev --ignore-scripts` on the
 * lock file, the compiled dist/, then each role started with NODE_ENV=production against real
 * loopback peers (fauxqs as SQS, redis-server, the app's own Salesforce emulator).
 */
describe("the production install (the image's runtime stage, without Docker)", function () {
  const servers: ChildServer[] = [];
  let appDir: string;
  let root: string;
  let filesBefore: string[];
  let sqs: SqsServer;
  let redis: RedisServer;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    // npm ci against the registry and a full tsc build take minutes on a cold cache.
    this.timeout(15 * 60 * 1000);
    root = mkdtempSync(join(tmpdir(), "ssc-image-"));
    appDir = join(root, "app");
    mkdirSync(appDir);
    // Build stage: what `npm run build` (tsc -p tsconfig.build.json) emits, into the scratch folder.
    run(
      process.execPath,
      [
        join(repoRoot, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "tsconfig.build.json",
        "--outDir",
        join(appDir, "dist"),
      ],
      repoRoot,
    );
    // Runtime stage.
    cpSync(join(repoRoot, "package.json"), join(appDir, "package.json"));
    cpSync(join(repoRoot, "package-lock.json"), join(appDir, "package-lock.json"));
    run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], appDir);
    rmSync(join(appDir, "package-lock.json"));
    filesBefore = listFiles(appDir);

    sqs = await startSqsServer();
    servers.push(sqs);
    redis = await startRedisServer();
    servers.push(redis);
    const { queueUrl, dlqUrl } = await sqs.createQueue("stripe-events", {
      deadLetter: { maxReceiveCount: 5 },
    });

    const secretsDir = join(root, "secrets");
    mkdirSync(secretsDir);
    const secretFile = (name: string, value: string) => {
      writeFileSync(join(secretsDir, name), `${value}\n`, { mode: 0o400 });
      return join(secretsDir, name);
    };

    const emulatorPort = await freePort();
    env = {
      NODE_OPTIONS: "",
      HOME: join(root, "nonexistent-home"),
      NODE_ENV: "production",
      LOG_LEVEL: "warn",
      ...sqsEnv(sqs.endpoint),
      SQS_QUEUE_URL: queueUrl,
      SQS_DLQ_URL: dlqUrl,
      REDIS_URL: redis.url,
      STRIPE_WEBHOOK_SECRET_FILE: secretFile("webhook-secret", "whsec_image_test"),
      SALESFORCE_LOGIN_URL: `http://127.0.0.1:${emulatorPort}`,
      SALESFORCE_AUTH_FLOW: "client_credentials",
      SALESFORCE_CLIENT_ID_FILE: secretFile("client-id", "3MVG9emulator.local.client.id"),
      SALESFORCE_CLIENT_SECRET_FILE: secretFile("client-secret", "emulator-client-secret"),
      SALESFORCE_EMULATOR_PORT: String(emulatorPort),
      // Short polls and drain so SIGTERM is answered quickly.
      WORKER_WAIT_TIME_SECONDS: "1",
      WORKER_SHUTDOWN_TIMEOUT_SECONDS: "5",
    };
    servers.push(
      await startChild(...entrypoint(appDir, "salesforce-emulator"), {
        name: "salesforce-emulator",
        port: emulatorPort,
        env,
        ready: async () => {
          await fetch(`http://127.0.0.1:${emulatorPort}/`);
          return true;
        },
      }),
    );
  });

  after(async function () {
    this.timeout(60 * 1000);
    for (const server of servers.reverse()) await server.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("installs no development dependency", () => {
    for (const devOnly of ["typescript", "mocha", "tsx", "chai", "eslint"]) {
      expect(existsSync(join(appDir, "node_modules", devOnly)), devOnly).to.equal(false);
    }
    expect(existsSync(join(appDir, "dist", "main.js"))).to.equal(true);
  });

  for (const [role, portVariable] of [
    ["web", "PORT"],
    ["worker", "WORKER_PORT"],
  ] as const) {
    describe(`node dist/main.js ${role}`, () => {
      let server: ChildServer;
      let base: string;

      before(async function () {
        this.timeout(60 * 1000);
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        server = await startChild(...entrypoint(appDir, role), {
          name: `${role} role`,
          port,
          env: { ...env, [portVariable]: String(port) },
          ready: async () => (await fetch(`${base}/health/live`)).ok,
        });
        servers.push(server);
      });

      it("is alive and ready against its production dependencies", async () => {
        expect((await get(`${base}/health/live`)).status).to.equal(200);
        // The worker is ready once it has checked the org (its describe of the mapped objects).
        let ready = await get(`${base}/health/ready`);
        for (let i = 0; ready.status !== 200 && i < 100; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          ready = await get(`${base}/health/ready`);
        }
        expect(ready.status, ready.body).to.equal(200);
      });

      it("exposes Prometheus metrics", async () => {
        const metrics = await get(`${base}/metrics`);
        expect(metrics.status).to.equal(200);
        expect(metrics.body).to.contain(role === "web" ? "stripe_webhooks_total" : "sync_events_total");
      });

      it("exits cleanly on SIGTERM", async () => {
        const child: ChildProcess = server.process;
        const exited = new Promise<number | null>((resolveExit) =>
          child.once("exit", (code) => resolveExit(code)),
        );
        child.kill("SIGTERM");
        expect(await exited).to.equal(0);
      });
    });
  }

  // Mocha runs a suite's own tests before its nested suites: this check sits in a suite of its own,
  // declared after the roles', so it runs once both roles have run.
  describe("after both roles ran", () => {
    it("wrote nothing into the application directory (the image runs with a read-only root)", () => {
      const written = listFiles(appDir).filter((path) => !filesBefore.includes(path));
      expect(written).to.deep.equal([]);
    });
  });
});

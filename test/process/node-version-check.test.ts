import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import ts from "typescript";

const REPO = new URL("../../", import.meta.url);

/** A `node` on PATH (or /usr/bin/node) whose major version is not 24, if the machine has one. */
function otherNode(): { path: string; version: string } | undefined {
  const candidates = [
    ...(process.env.PATH ?? "").split(":").map((dir) => join(dir, "node")),
    "/usr/bin/node",
    "/usr/local/bin/node",
  ];
  for (const path of candidates) {
    try {
      const version = execFileSync(path, ["--version"], { encoding: "utf8" }).trim();
      if (!version.startsWith("v24.")) return { path, version };
    } catch {
      // not there
    }
  }
  return undefined;
}

describe("starting on another Node.js version", () => {
  it("the required major in src/main.ts is the one package.json's engines names", () => {
    const engines = (
      JSON.parse(readFileSync(new URL("package.json", REPO), "utf8")) as { engines: { node: string } }
    ).engines.node;
    const main = readFileSync(new URL("src/main.ts", REPO), "utf8");
    const required = /REQUIRED_NODE_MAJOR = (\d+)/.exec(main)?.[1];
    expect(engines).to.equal(`>=${required} <${Number(required) + 1}`);
  });

  it("`node dist/main.js` on an older Node.js prints one line naming the version it needs, and exits 1", function () {
    const node = otherNode();
    if (!node) this.skip();
    // dist/main.js as tsc emits it, beside nothing else: the check must run before any import.
    const dir = mkdtempSync(join(tmpdir(), "node-version-check-"));
    const source = readFileSync(new URL("src/main.ts", REPO), "utf8");
    const tsconfig = JSON.parse(readFileSync(new URL("tsconfig.json", REPO), "utf8")) as {
      compilerOptions: { target: string };
    };
    const emitted = ts.transpileModule(source, {
      compilerOptions: {
        // What tsc emits for this package (type: module): ES module syntax.
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget[tsconfig.compilerOptions.target as keyof typeof ts.ScriptTarget],
      },
    }).outputText;
    writeFileSync(join(dir, "package.json"), '{"type":"module"}');
    writeFileSync(join(dir, "main.js"), emitted);
    const run = spawnSync(node!.path, [join(dir, "main.js"), "all"], { encoding: "utf8" });
    expect(run.status, run.stderr).to.equal(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines, run.stderr).to.have.length(1);
    expect(lines[0]).to.include("needs Node.js 24").and.include(node!.version).and.include("npm start");
  });
});

// Prints where a V8 CPU profile (`node --cpu-prof`) spent its busy time: self time by package and by
// function, as shares of the non-idle samples. `npx tsx bench/profile-summary.ts <file.cpuprofile>`.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame lives: an npm package, a Node internal module, the service's own code, or V8. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const [first, second] = url.slice(modules + "node_modules/".length).split("/");
    return first?.startsWith("@") ? `${first}/${second}` : (first ?? url);
  }
  if (url.startsWith("node:"))
    return url
      .replace(/^node:(internal\/)?/, "node:")
      .split("/")
      .slice(0, 2)
      .join("/");
  const source = /\/(dist|src)\/(.*)$/.exec(url);
  return source ? `service: ${source[2]}` : url;
}

function top(totals: Map<string, number>, busy: number, count: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => `| ${((100 * micros) / busy).toFixed(1)}% | ${name} |`);
}

/** Prints the top entries of `file` by package and by function. */
export function printProfileSummary(file: string, count = 15): void {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") {
      idle += micros;
      return;
    }
    busy += micros;
    const owner = ownerOf(frame.url, frame.functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
    const name = `${frame.functionName || "(anonymous)"} (${owner})`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  });
  console.log(`\nCPU profile ${file}: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`);
  console.log("\n| self time | package or module |\n| --- | --- |");
  for (const line of top(byOwner, busy, count)) console.log(line);
  console.log("\n| self time | function |\n| --- | --- |");
  for (const line of top(byFunction, busy, count)) console.log(line);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: tsx bench/profile-summary.ts <file.cpuprofile>");
    process.exit(2);
  }
  printProfileSummary(file);
}

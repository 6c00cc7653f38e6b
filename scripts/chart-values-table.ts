/**
 * Writes the values table of charts/stripe-salesforce-sync/README.md from the `# --` comments in
 * values.yaml (the helm-docs convention; helm-docs itself is a Go binary this repo does not ship).
 *
 *   npx tsx scripts/chart-values-table.ts          rewrite the table between the README markers
 *   npx tsx scripts/chart-values-table.ts --check  exit 1 when the README table is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";

/** Chart directory the script documents. */
export const chartDir = resolve(fileURLToPath(new URL("../charts/stripe-salesforce-sync", import.meta.url)));
/** Marker lines around the generated table in the chart README. */
export const markers = { start: "<!-- values-table:start -->", end: "<!-- values-table:end -->" } as const;

/** One documented value: its dotted path and its `# --` description. */
export interface DocumentedValue {
  path: string;
  description: string;
}

/** Reads `# -- description` comments and the key that follows each, tracking nesting by indentation. */
export function documentedValues(valuesYaml: string): DocumentedValue[] {
  const documented: DocumentedValue[] = [];
  const stack: { indent: number; key: string }[] = [];
  let pending: string | undefined;
  for (const line of valuesYaml.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("# --")) {
      pending = trimmed.slice(4).trim();
      continue;
    }
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    // Keys inside list items are not documented separately: the list is one value.
    if (trimmed.startsWith("-")) {
      pending = undefined;
      continue;
    }
    const match = /^(\s*)([A-Za-z0-9_.\-/"]+):(\s|$)/.exec(line);
    if (!match) continue;
    const indent = match[1]!.length;
    const key = match[2]!.replace(/^"|"$/g, "");
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const path = [...stack.map((entry) => entry.key), key].join(".");
    if (pending !== undefined) documented.push({ path, description: pending });
    pending = undefined;
    stack.push({ indent, key });
  }
  return documented;
}

/** Every leaf path of a values object (empty objects and arrays count as leaves). */
export function leafPaths(value: unknown, prefix = ""): string[] {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) =>
      leafPaths(child, prefix ? `${prefix}.${key}` : key),
    );
  }
  return [prefix];
}

function valueAt(values: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], values);
}

function schemaTypeAt(schema: unknown, path: string): string | undefined {
  let node = schema as { properties?: Record<string, unknown>; type?: string | string[] } | undefined;
  for (const key of path.split(".")) node = node?.properties?.[key] as typeof node;
  const type = node?.type;
  const types = Array.isArray(type) ? type.filter((t) => t !== "null") : type ? [type] : [];
  return types[0];
}

function typeName(value: unknown, schemaType: string | undefined): string {
  if (value === null) return schemaType === "integer" ? "int" : (schemaType ?? "string");
  if (Array.isArray(value)) return "list";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "object") return "object";
  return "string";
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The Markdown table for a values.yaml text, one row per documented value, in file order. */
export function renderValuesTable(valuesYaml: string, schema: unknown): string {
  const values = parseYaml(valuesYaml) as unknown;
  const rows = documentedValues(valuesYaml).map(({ path, description }) => {
    const value = valueAt(values, path);
    const rendered = JSON.stringify(value ?? null);
    return `| ${cell(path)} | ${typeName(value, schemaTypeAt(schema, path))} | \`${cell(rendered)}\` | ${cell(description)} |`;
  });
  return ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|", ...rows].join(
    "\n",
  );
}

/** The README with its table regenerated; throws when the markers are missing. */
export function updateReadme(readme: string, table: string): string {
  const start = readme.indexOf(markers.start);
  const end = readme.indexOf(markers.end);
  if (start < 0 || end < start) throw new Error(`README lacks ${markers.start} ... ${markers.end}`);
  return `${readme.slice(0, start + markers.start.length)}\n${table}\n${readme.slice(end)}`;
}

function main(argv: string[]): void {
  const valuesYaml = readFileSync(join(chartDir, "values.yaml"), "utf8");
  const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as unknown;
  const readmePath = join(chartDir, "README.md");
  const readme = readFileSync(readmePath, "utf8");
  const updated = updateReadme(readme, renderValuesTable(valuesYaml, schema));
  if (argv.includes("--check")) {
    if (updated !== readme) {
      process.stderr.write(
        "charts/stripe-salesforce-sync/README.md is out of date: run npx tsx scripts/chart-values-table.ts\n",
      );
      process.exitCode = 1;
    }
    return;
  }
  if (updated !== readme) writeFileSync(readmePath, updated);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  main(process.argv.slice(2));

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";
import {
  chartDir,
  documentedValues,
  leafPaths,
  markers,
  renderValuesTable,
  updateReadme,
} from "../../scripts/chart-values-table.js";

const valuesYaml = readFileSync(join(chartDir, "values.yaml"), "utf8");
const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as Record<
  string,
  unknown
>;

describe("the Helm chart's values documentation", () => {
  it("documents every value with a one-line # -- comment (on the value or an enclosing object)", () => {
    const documented = new Set(documentedValues(valuesYaml).map((d) => d.path));
    const undocumented = leafPaths(parseYaml(valuesYaml)).filter((path) => {
      const parts = path.split(".");
      return !parts.some((_, i) => documented.has(parts.slice(0, i + 1).join(".")));
    });
    expect(undocumented).to.deep.equal([]);
  });

  it("keeps the README values table in step with values.yaml (npx tsx scripts/chart-values-table.ts)", () => {
    const readme = readFileSync(join(chartDir, "README.md"), "utf8");
    expect(readme).to.contain(markers.start).and.contain(markers.end);
    expect(updateReadme(readme, renderValuesTable(valuesYaml, schema))).to.equal(readme);
  });

  it("lists a changed default in the regenerated table, so a stale README is caught", () => {
    const changed = valuesYaml.replace("shutdownTimeoutSeconds: 30", "shutdownTimeoutSeconds: 31");
    expect(changed).to.not.equal(valuesYaml);
    expect(renderValuesTable(changed, schema)).to.contain("| worker.shutdownTimeoutSeconds | int | `31` |");
  });

  it("has a self-contained values schema (no remote $ref) that accepts the default values", () => {
    const refs = JSON.stringify(schema).match(/"\$ref":"[^"]*"/g) ?? [];
    expect(refs.filter((ref) => !ref.startsWith('"$ref":"#'))).to.deep.equal([]);
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    expect(validate(parseYaml(valuesYaml)), JSON.stringify(validate.errors)).to.equal(true);
    expect(validate({ ...parseYaml(valuesYaml), worker: { replicas: 2 } })).to.equal(false);
  });
});

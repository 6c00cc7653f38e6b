import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "../../shared/errors.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { DEFAULT_OBJECTS, UNDROPPABLE_FIELDS, defaultMapping, type Mapping } from "./mapping.js";

const apiName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "must be a Salesforce API name (letters, digits, _)");
const stripePath = z
  .string()
  .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "must be a dotted path like metadata.crm_account");

const objectOverrideSchema = z.strictObject({
  name: apiName.optional(),
  fields: z.record(z.string(), apiName).optional(),
  drop: z.array(z.string()).optional(),
  add: z.record(apiName, stripePath).optional(),
});
const overridesSchema = z.strictObject({
  objects: z.record(z.string(), objectOverrideSchema).optional(),
});

/** The content of a mapping file (YAML or JSON). */
export type MappingOverrides = z.infer<typeof overridesSchema>;

/** Applies one object's override to the default, collecting `path: problem` lines into `issues`. */
function applyObjectOverride(
  mapping: Mapping,
  object: DefaultObjectName,
  override: NonNullable<MappingOverrides["objects"]>[string],
  issues: string[],
): void {
  const definition = DEFAULT_OBJECTS.get(object);
  if (!definition) return;
  const at = `objects.${object}`;
  const target = mapping.objects[object];
  if (override.name) target.name = override.name;
  const known = new Set(definition.fields.map((f) => f.name));
  for (const [field, orgName] of Object.entries(override.fields ?? {})) {
    if (!known.has(field)) {
      issues.push(`${at}.fields.${field}: no such field in the default mapping`);
      continue;
    }
    const type = definition.fields.find((f) => f.name === field)?.type;
    if (type === "Lookup" && !orgName.endsWith("__c")) {
      issues.push(`${at}.fields.${field}: a lookup field's name must end with __c`);
      continue;
    }
    target.fields[field] = orgName;
  }
  for (const field of override.drop ?? []) {
    if (!known.has(field)) issues.push(`${at}.drop.${field}: no such field in the default mapping`);
    else if (field === definition.externalIdField)
      issues.push(`${at}.drop.${field}: the External ID field cannot be dropped`);
    else if ((UNDROPPABLE_FIELDS as readonly string[]).includes(field)) {
      issues.push(
        `${at}.drop.${field}: cannot be dropped (newest-wins ordering needs it); rename it instead`,
      );
    } else if (override.fields?.[field] !== undefined)
      issues.push(`${at}.drop.${field}: both renamed and dropped`);
    else delete target.fields[field];
  }
  const used = new Map<string, string>();
  for (const [field, orgName] of Object.entries(target.fields)) {
    const other = used.get(orgName);
    if (other !== undefined) issues.push(`${at}.fields.${field}: ${orgName} is already the name of ${other}`);
    used.set(orgName, field);
  }
  for (const [field, path] of Object.entries(override.add ?? {})) {
    if (used.has(field)) issues.push(`${at}.add.${field}: clashes with a mapped field of that name`);
    else target.add[field] = path;
  }
}

/**
 * Builds the mapping from a parsed mapping file: the default with the file's renames, drops and
 * additions. Throws ConfigError naming every bad entry (`mapping file objects.X.fields.Y: ...`).
 */
export function mappingFromOverrides(value: unknown): Mapping {
  const parsed = overridesSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `mapping file ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new ConfigError(lines.join("; "));
  }
  const mapping = defaultMapping();
  const issues: string[] = [];
  for (const [object, override] of Object.entries(parsed.data.objects ?? {})) {
    if (!DEFAULT_OBJECTS.has(object)) {
      issues.push(`objects.${object}: no such object in the default mapping`);
      continue;
    }
    applyObjectOverride(mapping, object as DefaultObjectName, override, issues);
  }
  const objectNames = Object.values(mapping.objects).map((o) => o.name);
  if (new Set(objectNames).size !== objectNames.length)
    issues.push("objects: two objects map to the same name");
  if (issues.length > 0) throw new ConfigError(issues.map((issue) => `mapping file ${issue}`).join("; "));
  return mapping;
}

/**
 * Loads the mapping in force: the contract's default without `path`, else the default overridden by
 * the YAML or JSON file at `path` (read once at start-up). Throws ConfigError naming the bad entry.
 */
export function loadMapping(
  path?: string,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): Mapping {
  if (!path) return defaultMapping();
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new ConfigError(`mapping file ${path}: cannot read: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON, so one parser reads both
  } catch (error) {
    throw new ConfigError(`mapping file ${path}: not valid YAML or JSON: ${(error as Error).message}`);
  }
  return mappingFromOverrides(value);
}

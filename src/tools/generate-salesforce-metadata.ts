import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  SALESFORCE_OBJECTS,
  type FieldDefinition,
  type ObjectDefinition,
} from "../salesforce-schema/objects.js";

const METADATA_NAMESPACE = "http://soap.sforce.com/2006/04/metadata";
/** API name of the generated permission set. */
export const PERMISSION_SET_NAME = "Stripe_Salesforce_Sync";
/** Source API version written to sfdx-project.json (default 62.0). */
const DEFAULT_API_VERSION = "62.0";

function escapeXml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** A tiny element tree, enough for metadata files; a library would add a dependency for 20 lines. */
type XmlNode = [name: string, content: string | boolean | number | XmlNode[]];

function renderNodes(nodes: XmlNode[], indent: string): string {
  return nodes
    .map(([name, content]) =>
      Array.isArray(content)
        ? `${indent}<${name}>\n${renderNodes(content, `${indent}    `)}${indent}</${name}>\n`
        : `${indent}<${name}>${escapeXml(String(content))}</${name}>\n`,
    )
    .join("");
}

function xmlDocument(root: string, nodes: XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${METADATA_NAMESPACE}">\n${renderNodes(nodes, "    ")}</${root}>\n`;
}

/** Name of the parent-to-child relationship for a lookup on `child` (unique on the parent). */
function childRelationshipName(child: ObjectDefinition): string {
  return child.pluralLabel.replace(/[^A-Za-z0-9]+/g, "_");
}

function fieldNodes(object: ObjectDefinition, field: FieldDefinition): XmlNode[] {
  const nodes: XmlNode[] = [["fullName", field.name]];
  switch (field.type) {
    case "Checkbox":
      nodes.push(["defaultValue", false]);
      break;
    case "Lookup":
      nodes.push(["deleteConstraint", "SetNull"]);
      break;
    default:
      break;
  }
  if (field.isExternalId) nodes.push(["caseSensitive", true]);
  nodes.push(["externalId", field.isExternalId === true], ["label", field.label]);
  if (field.type === "Text") nodes.push(["length", field.length ?? 255]);
  if (field.type === "Number") nodes.push(["precision", field.precision ?? 18]);
  if (field.type === "Lookup") {
    nodes.push(
      ["referenceTo", field.referenceTo ?? ""],
      ["relationshipLabel", object.pluralLabel],
      ["relationshipName", childRelationshipName(object)],
    );
  }
  if (field.type !== "Checkbox") nodes.push(["required", false]);
  if (field.type === "Number") nodes.push(["scale", field.scale ?? 0]);
  nodes.push(["trackTrending", false], ["type", field.type]);
  if (field.type === "Text" || field.type === "Email") nodes.push(["unique", field.isExternalId === true]);
  if (field.type === "Picklist") {
    nodes.push([
      "valueSet",
      [
        ["restricted", true],
        [
          "valueSetDefinition",
          [
            ["sorted", false],
            ...(field.picklistValues ?? []).map((value): XmlNode => [
              "value",
              [
                ["fullName", value],
                ["default", false],
                ["label", value],
              ],
            ]),
          ],
        ],
      ],
    ]);
  }
  return nodes;
}

/** The CustomObject file: labels, a Text name field, deployed, public read/write sharing. */
export function renderObjectMetadata(object: ObjectDefinition): string {
  const nameLabel = object.fields.find((field) => field.name === "Name")?.label ?? "Name";
  return xmlDocument("CustomObject", [
    ["deploymentStatus", "Deployed"],
    ["enableHistory", false],
    ["enableReports", true],
    ["label", object.label],
    [
      "nameField",
      [
        ["label", nameLabel],
        ["type", "Text"],
      ],
    ],
    ["pluralLabel", object.pluralLabel],
    ["sharingModel", "ReadWrite"],
  ]);
}

/** The CustomField file of one custom field. */
export function renderFieldMetadata(object: ObjectDefinition, field: FieldDefinition): string {
  return xmlDocument("CustomField", fieldNodes(object, field));
}

/** The permission set: read, create and edit on each object, read and edit on each custom field. */
export function renderPermissionSet(objects: readonly ObjectDefinition[]): string {
  const fieldPermissions = objects.flatMap((object) =>
    object.fields
      .filter((field) => field.name !== "Name")
      .map((field): XmlNode => [
        "fieldPermissions",
        [
          ["editable", true],
          ["field", `${object.name}.${field.name}`],
          ["readable", true],
        ],
      ]),
  );
  const objectPermissions = objects.map((object): XmlNode => [
    "objectPermissions",
    [
      ["allowCreate", true],
      ["allowDelete", false],
      ["allowEdit", true],
      ["allowRead", true],
      ["modifyAllRecords", false],
      ["object", object.name],
      ["viewAllRecords", false],
    ],
  ]);
  return xmlDocument("PermissionSet", [
    ["description", "Lets the Stripe to Salesforce sync integration user upsert the Stripe objects."],
    ...fieldPermissions,
    ["hasActivationRequired", false],
    ["label", "Stripe Salesforce Sync"],
    ...objectPermissions,
  ]);
}

/**
 * Writes a Salesforce DX source-format project for `objects` (default SALESFORCE_OBJECTS) under
 * `outDir`: sfdx-project.json, each object with its fields, and the permission set. Returns the
 * paths written, relative to `outDir`. Deploy with `sf project deploy start`.
 */
export async function generateSalesforceMetadata(
  outDir: string,
  objects: readonly ObjectDefinition[] = SALESFORCE_OBJECTS,
  apiVersion: string = DEFAULT_API_VERSION,
): Promise<string[]> {
  const files = new Map<string, string>();
  files.set(
    "sfdx-project.json",
    `${JSON.stringify(
      {
        packageDirectories: [{ path: "force-app", default: true }],
        name: "stripe-salesforce-sync",
        namespace: "",
        sfdcLoginUrl: "https://login.salesforce.com",
        sourceApiVersion: apiVersion,
      },
      null,
      2,
    )}\n`,
  );
  const base = join("force-app", "main", "default");
  for (const object of objects) {
    const folder = join(base, "objects", object.name);
    files.set(join(folder, `${object.name}.object-meta.xml`), renderObjectMetadata(object));
    for (const field of object.fields) {
      if (field.name === "Name") continue;
      files.set(join(folder, "fields", `${field.name}.field-meta.xml`), renderFieldMetadata(object, field));
    }
  }
  files.set(
    join(base, "permissionsets", `${PERMISSION_SET_NAME}.permissionset-meta.xml`),
    renderPermissionSet(objects),
  );
  for (const [path, content] of files) {
    await mkdir(join(outDir, path, ".."), { recursive: true });
    await writeFile(join(outDir, path), content, "utf8");
  }
  return [...files.keys()];
}

import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SALESFORCE_OBJECTS } from "../../src/salesforce-schema/objects.js";
import { generateSalesforceMetadata } from "../../src/tools/generate-salesforce-metadata.js";

/** Throws unless `xml` is well formed: one root, every tag closed in order, entities escaped. */
function assertWellFormed(xml: string, file: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let roots = 0;
  let match: RegExpExecArray | null;
  let position = 0;
  while ((match = tag.exec(body)) !== null) {
    position = tag.lastIndex;
    const [, closing, name, , selfClosing, text] = match;
    if (text !== undefined) {
      if (/&(?!amp;|lt;|gt;|quot;|apos;)/.test(text)) throw new Error(`${file}: unescaped & in ${text}`);
      if (stack.length === 0 && text.trim() !== "") throw new Error(`${file}: text outside the root`);
      continue;
    }
    if (closing) {
      if (stack.pop() !== name) throw new Error(`${file}: </${name}> closes the wrong element`);
    } else if (!selfClosing) {
      if (stack.length === 0) roots += 1;
      stack.push(name ?? "");
    }
  }
  if (position !== body.length || stack.length > 0 || roots !== 1)
    throw new Error(`${file}: not well formed`);
}

const element = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];

describe("Salesforce DX metadata generated from the object definitions", () => {
  let outDir: string;
  let written: string[];
  before(async () => {
    outDir = await mkdtemp(join(tmpdir(), "sf-metadata-"));
    written = await generateSalesforceMetadata(outDir);
  });
  after(() => rm(outDir, { recursive: true, force: true }));

  const read = (path: string) => readFile(join(outDir, path), "utf8");
  const objectDir = (name: string) => join("force-app", "main", "default", "objects", name);

  it("writes a well-formed sfdx project", async () => {
    const project = JSON.parse(await read("sfdx-project.json")) as {
      packageDirectories: Array<{ path: string }>;
    };
    expect(project.packageDirectories[0]?.path).to.equal("force-app");
    for (const file of written.filter((f) => f.endsWith(".xml"))) assertWellFormed(await read(file), file);
  });

  it("every object is a deployed custom object with a Text name field and read/write sharing", async () => {
    for (const object of SALESFORCE_OBJECTS) {
      const xml = await read(join(objectDir(object.name), `${object.name}.object-meta.xml`));
      expect(xml).to.contain('<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">');
      expect(element(xml, "label")).to.equal(object.label);
      expect(element(xml, "pluralLabel")).to.equal(object.pluralLabel);
      expect(element(xml, "deploymentStatus")).to.equal("Deployed");
      expect(element(xml, "sharingModel")).to.equal("ReadWrite");
      expect(xml).to.match(/<nameField>\s*<label>Name<\/label>\s*<type>Text<\/type>\s*<\/nameField>/);
    }
  });

  it("every custom field of the definition has a field file of its type, and Name has none", async () => {
    for (const object of SALESFORCE_OBJECTS) {
      for (const field of object.fields) {
        const path = join(objectDir(object.name), "fields", `${field.name}.field-meta.xml`);
        if (field.name === "Name") {
          expect(written).to.not.include(path);
          continue;
        }
        const xml = await read(path);
        expect(element(xml, "fullName"), path).to.equal(field.name);
        expect(element(xml, "type"), path).to.equal(field.type);
        if (field.type === "Text") expect(element(xml, "length"), path).to.equal(String(field.length));
        if (field.type === "Number") {
          expect([element(xml, "precision"), element(xml, "scale")], path).to.deep.equal([
            String(field.precision),
            String(field.scale),
          ]);
        }
        if (field.type === "Checkbox") expect(element(xml, "defaultValue"), path).to.equal("false");
        if (field.type === "Picklist") {
          expect(element(xml, "restricted"), path).to.equal("true");
          const values = [...xml.matchAll(/<value>\s*<fullName>([^<]*)<\/fullName>/g)].map((m) => m[1]);
          expect(values, path).to.deep.equal([...(field.picklistValues ?? [])]);
        }
        if (field.type === "Lookup") {
          expect(element(xml, "referenceTo"), path).to.equal(field.referenceTo);
          expect(element(xml, "deleteConstraint"), path).to.equal("SetNull");
          expect(element(xml, "relationshipName"), path).to.equal(object.pluralLabel.replace(/ /g, "_"));
        }
        expect(element(xml, "externalId"), path).to.equal(String(field.isExternalId === true));
        if (field.isExternalId)
          expect([element(xml, "unique"), element(xml, "caseSensitive")]).to.deep.equal(["true", "true"]);
      }
    }
  });

  it("the permission set grants read, create and edit on each object and read/edit on each custom field", async () => {
    const xml = await read(
      join("force-app", "main", "default", "permissionsets", "Stripe_Salesforce_Sync.permissionset-meta.xml"),
    );
    for (const object of SALESFORCE_OBJECTS) {
      expect(xml).to.match(
        new RegExp(
          `<allowCreate>true</allowCreate>\\s*<allowDelete>false</allowDelete>\\s*<allowEdit>true</allowEdit>\\s*<allowRead>true</allowRead>\\s*<modifyAllRecords>false</modifyAllRecords>\\s*<object>${object.name}</object>`,
        ),
      );
      for (const field of object.fields) {
        const granted = xml.includes(`<field>${object.name}.${field.name}</field>`);
        expect(granted, `${object.name}.${field.name}`).to.equal(field.name !== "Name");
      }
    }
  });
});

import { resolve } from "node:path";
import { loadMapping } from "../domain/sync/mapping-file.js";
import { effectiveObjects } from "../domain/sync/mapping.js";
import { generateSalesforceMetadata } from "../tools/generate-salesforce-metadata.js";

/** `metadata <dir>`: writes the Salesforce DX source folder, following MAPPING_FILE when set. */
export async function runMetadataCommand(args: string[]): Promise<void> {
  const outDir = resolve(args[0] ?? "salesforce-metadata");
  const mapping = loadMapping(process.env.MAPPING_FILE || undefined);
  const written = await generateSalesforceMetadata(
    outDir,
    effectiveObjects(mapping),
    process.env.SALESFORCE_API_VERSION || undefined,
  );
  process.stdout.write(`wrote ${written.length} files to ${outDir}\n`);
  process.stdout.write(
    `deploy them with: sf project deploy start --source-dir ${outDir}/force-app --target-org <alias>\n`,
  );
}

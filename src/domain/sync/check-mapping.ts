import { DEFAULT_OBJECTS, type Mapping } from "./mapping.js";
import type { DefaultObjectName } from "./mapped-record.js";
import type { SalesforceDescriber } from "./salesforce-port.js";

/** Fields an org may lack: writes leave them out (and a metric counts what could not be written). */
export const OPTIONAL_FIELDS: ReadonlySet<string> = new Set(["Stripe_Account_Id__c"]);

/** What checking the mapping against the org found. */
export interface MappingCheck {
  /** What stops writes, one line each, naming the object and field and what to fix. */
  problems: string[];
  /** Optional mapped fields the org lacks, as `Object.Field` (their values are not sent). */
  missingOptional: string[];
}

/**
 * Describes the mapped objects (one call for all of them) and checks that every mapped field exists and can be written
 * by the integration user, and that each External ID field is one. A problem names the object and
 * field; the worker does not consume until there is none.
 */
export async function checkMappingAgainstOrg(
  mapping: Mapping,
  describer: SalesforceDescriber,
): Promise<MappingCheck> {
  const check: MappingCheck = { problems: [], missingOptional: [] };
  const descriptions = await describer.describeObjects(
    Object.values(mapping.objects).map((objectMapping) => objectMapping.name),
  );
  for (const [defaultName, objectMapping] of Object.entries(mapping.objects) as [
    DefaultObjectName,
    Mapping["objects"][DefaultObjectName],
  ][]) {
    const definition = DEFAULT_OBJECTS.get(defaultName);
    const described = descriptions.get(objectMapping.name);
    if (!described) {
      check.problems.push(
        `object ${objectMapping.name} does not exist in the org, or the integration user cannot see it`,
      );
      continue;
    }
    const fields = new Map(described.fields.map((field) => [field.name.toLowerCase(), field]));
    const externalIdField = definition ? objectMapping.fields[definition.externalIdField] : undefined;
    const wanted = [
      ...Object.entries(objectMapping.fields),
      ...Object.keys(objectMapping.add).map((name) => [name, name]),
    ];
    for (const [defaultField, orgField] of wanted as [string, string][]) {
      const field = fields.get(orgField.toLowerCase());
      const where = `${objectMapping.name}.${orgField}`;
      if (!field) {
        if (OPTIONAL_FIELDS.has(defaultField)) check.missingOptional.push(where);
        else
          check.problems.push(
            `field ${where} does not exist, or field-level security hides it from the integration user`,
          );
        continue;
      }
      if (!field.createable)
        check.problems.push(
          `field ${where} cannot be set on create by the integration user (field-level security)`,
        );
      else if (!field.updateable && orgField !== externalIdField)
        check.problems.push(
          `field ${where} cannot be updated by the integration user (field-level security)`,
        );
      if (orgField === externalIdField && !field.externalId)
        check.problems.push(
          `field ${where} is not an External ID field: upserts need it marked External ID (unique)`,
        );
    }
  }
  return check;
}

import type { FieldDefinition, ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { FieldAccess } from "./org-schema.js";
import { fieldLength } from "./validate-record.js";

const DESCRIBE_TYPE: Record<FieldDefinition["type"], string> = {
  Text: "string",
  Email: "email",
  Phone: "phone",
  Number: "double",
  Checkbox: "boolean",
  DateTime: "datetime",
  Picklist: "picklist",
  Lookup: "reference",
};

interface DescribeField {
  name: string;
  label: string;
  type: string;
  [key: string]: unknown;
}

const systemField = (
  name: string,
  label: string,
  type: string,
  extra: Record<string, unknown> = {},
): DescribeField => ({
  name,
  label,
  type,
  length: type === "id" ? 18 : 0,
  custom: false,
  nillable: false,
  createable: false,
  updateable: false,
  defaultedOnCreate: true,
  externalId: false,
  unique: false,
  picklistValues: [],
  referenceTo: [],
  relationshipName: null,
  ...extra,
});

function describeField(field: FieldDefinition, access: FieldAccess): DescribeField {
  const isName = field.name === "Name";
  return {
    name: field.name,
    label: field.label,
    type: DESCRIBE_TYPE[field.type],
    length: fieldLength(field) ?? 0,
    precision: field.precision ?? 0,
    scale: field.scale ?? 0,
    custom: !isName,
    nameField: isName,
    // Checkboxes are never null; Name is required but defaults to the Id on insert.
    nillable: !isName && field.type !== "Checkbox",
    defaultedOnCreate: isName || field.type === "Checkbox",
    createable: access.createable,
    updateable: access.updateable,
    externalId: field.isExternalId === true,
    unique: field.isExternalId === true,
    caseSensitive: field.isExternalId === true,
    idLookup: field.isExternalId === true || isName,
    restrictedPicklist: field.type === "Picklist",
    picklistValues: (field.picklistValues ?? []).map((value) => ({
      active: true,
      defaultValue: false,
      label: value,
      validFor: null,
      value,
    })),
    referenceTo: field.referenceTo ? [field.referenceTo] : [],
    relationshipName: field.relationshipName ?? null,
  };
}

/** `GET /sobjects/{Object}/describe`: the object's metadata shaped like Salesforce's answer. */
export function describeObject(
  object: ObjectDefinition,
  keyPrefix: string,
  apiVersion: string,
  accessOf: (field: FieldDefinition) => FieldAccess = () => ({ createable: true, updateable: true }),
): Record<string, unknown> {
  const base = `/services/data/v${apiVersion}/sobjects/${object.name}`;
  return {
    name: object.name,
    label: object.label,
    labelPlural: object.pluralLabel,
    keyPrefix,
    custom: true,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    fields: [
      systemField("Id", "Record ID", "id", { idLookup: true }),
      systemField("IsDeleted", "Deleted", "boolean"),
      ...object.fields.map((field) => describeField(field, accessOf(field))),
      systemField("CreatedDate", "Created Date", "datetime"),
      systemField("LastModifiedDate", "Last Modified Date", "datetime"),
      systemField("SystemModstamp", "System Modstamp", "datetime"),
    ],
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

import type { FieldDefinition, ObjectDefinition } from "../../salesforce-schema/objects.js";

/** What the running user may do with a field (field-level security). */
export interface FieldAccess {
  createable: boolean;
  updateable: boolean;
}

/** A change to the emulated org's schema, as `POST /__emulator/schema` takes it. */
export type SchemaChange =
  /** Deletes a field: writes naming it fail the whole call with INVALID_FIELD, describe and SOQL lose it. */
  | { action: "drop_field"; object: string; field: string }
  /** Field-level security: a field that is not createable/updateable fails the record with INVALID_FIELD_FOR_INSERT_UPDATE. */
  | { action: "set_field_access"; object: string; field: string; createable?: boolean; updateable?: boolean }
  /** Deletes an object: REST calls naming it answer NOT_FOUND, SOQL INVALID_TYPE. */
  | { action: "drop_object"; object: string }
  /** Restores the schema the emulator started with. */
  | { action: "reset" };

const lower = (name: string) => name.toLowerCase();

/** Reads an untrusted schema change; throws with a readable message when it is not one. */
export function parseSchemaChange(input: unknown): SchemaChange {
  const change = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const name = (key: string): string => {
    if (typeof change[key] !== "string" || change[key] === "") throw new Error(`${key} must be an API name`);
    return change[key] as string;
  };
  const flag = (key: string) => (typeof change[key] === "boolean" ? { [key]: change[key] as boolean } : {});
  switch (change.action) {
    case "drop_field":
      return { action: "drop_field", object: name("object"), field: name("field") };
    case "set_field_access":
      return {
        action: "set_field_access",
        object: name("object"),
        field: name("field"),
        ...flag("createable"),
        ...flag("updateable"),
      };
    case "drop_object":
      return { action: "drop_object", object: name("object") };
    case "reset":
      return { action: "reset" };
    default:
      throw new Error("action must be one of drop_field, set_field_access, drop_object, reset");
  }
}

/** The org's objects and fields as they are now: the definitions it started with, minus what was dropped. */
export class OrgSchema {
  private current = new Map<string, ObjectDefinition>();
  private readonly access = new Map<string, FieldAccess>();
  private changes: SchemaChange[] = [];

  constructor(private readonly original: readonly ObjectDefinition[]) {
    this.reset();
  }

  /** The definition of `name` (case-insensitive, as Salesforce resolves API names), unless dropped. */
  definition(name: string): ObjectDefinition | undefined {
    return this.current.get(lower(name));
  }

  /** Every object the org has now, in the order given at start. */
  objects(): ObjectDefinition[] {
    return [...this.current.values()];
  }

  /** Every object the org started with (dropped ones included), for key prefixes and storage. */
  originalObjects(): readonly ObjectDefinition[] {
    return this.original;
  }

  /** Field-level security of one field (createable and updateable unless changed). */
  fieldAccess(object: string, field: FieldDefinition): FieldAccess {
    return this.access.get(`${lower(object)}.${lower(field.name)}`) ?? { createable: true, updateable: true };
  }

  /** The changes applied since start (or the last reset). */
  listChanges(): SchemaChange[] {
    return structuredClone(this.changes);
  }

  /** Applies a change; throws when it names an object or field the org does not have. */
  apply(change: SchemaChange): void {
    if (change.action === "reset") {
      this.reset();
      return;
    }
    const object = this.definition(change.object);
    if (!object) throw new Error(`no object ${change.object}`);
    if (change.action === "drop_object") {
      this.current.delete(lower(object.name));
    } else {
      const field = object.fields.find((f) => lower(f.name) === lower(change.field));
      if (!field) throw new Error(`no field ${change.field} on ${object.name}`);
      if (change.action === "drop_field") {
        if (field.name === object.externalIdField || field.name === "Name")
          throw new Error(`${field.name} cannot be dropped: the emulator keys records on it`);
        this.current.set(lower(object.name), { ...object, fields: object.fields.filter((f) => f !== field) });
      } else {
        const before = this.fieldAccess(object.name, field);
        this.access.set(`${lower(object.name)}.${lower(field.name)}`, {
          createable: change.createable ?? before.createable,
          updateable: change.updateable ?? before.updateable,
        });
      }
    }
    this.changes.push(change);
  }

  private reset(): void {
    this.current = new Map(this.original.map((object) => [lower(object.name), object]));
    this.access.clear();
    this.changes = [];
  }
}

import type { Clock } from "../../shared/clock.js";
import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import { customObjectKeyPrefix, IdGenerator } from "./salesforce-ids.js";

/** A stored record: `Id`, the audit fields and field values by API name. */
export type StoredRecord = Record<string, unknown> & { Id: string };

/** Salesforce's DateTime rendering, e.g. `2024-05-01T10:00:00.000+0000`. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

/** The emulated org's data: one table per object definition, indexed by Id and External ID. */
export class RecordStore {
  private readonly tables = new Map<string, Map<string, StoredRecord>>();
  private readonly byExternalId = new Map<string, Map<string, string>>();
  private readonly definitions = new Map<string, ObjectDefinition>();
  private readonly keyPrefixes = new Map<string, string>();
  private readonly ids = new IdGenerator();

  constructor(
    objects: readonly ObjectDefinition[],
    private readonly clock: Clock,
  ) {
    objects.forEach((object, index) => {
      this.definitions.set(object.name.toLowerCase(), object);
      this.keyPrefixes.set(object.name, customObjectKeyPrefix(index));
      this.tables.set(object.name, new Map());
      this.byExternalId.set(object.name, new Map());
    });
  }

  /** The definition of `name` (case-insensitive, as Salesforce resolves API names). */
  definition(name: string): ObjectDefinition | undefined {
    return this.definitions.get(name.toLowerCase());
  }

  /** Every object definition, in the order given. */
  objects(): ObjectDefinition[] {
    return [...this.definitions.values()];
  }

  /** The 3-character key prefix of an object's ids. */
  keyPrefix(objectName: string): string {
    return this.keyPrefixes.get(objectName) ?? "a00";
  }

  /** The record whose External ID is exactly `value` (case-sensitive). */
  findByExternalId(objectName: string, value: string): StoredRecord | undefined {
    const id = this.byExternalId.get(objectName)?.get(value);
    return id === undefined ? undefined : this.tables.get(objectName)?.get(id);
  }

  /** The record with Id `id`. */
  findById(objectName: string, id: string): StoredRecord | undefined {
    return this.tables.get(objectName)?.get(id);
  }

  /** Every record of an object, oldest first. */
  list(objectName: string): StoredRecord[] {
    const definition = this.definition(objectName);
    return definition ? [...(this.tables.get(definition.name)?.values() ?? [])] : [];
  }

  /** Reserves the Id a new record will get, so Name can default to it. */
  newId(objectName: string): string {
    return this.ids.next(this.keyPrefix(objectName));
  }

  /** Inserts (when `existing` is undefined) or updates a record and maintains the audit fields. */
  write(
    object: ObjectDefinition,
    id: string,
    fields: Record<string, unknown>,
    existing?: StoredRecord,
  ): StoredRecord {
    const now = formatDateTime(this.clock.now());
    const record: StoredRecord = existing
      ? { ...existing, ...fields, Id: id, LastModifiedDate: now, SystemModstamp: now }
      : { Id: id, ...fields, CreatedDate: now, LastModifiedDate: now, SystemModstamp: now };
    this.tables.get(object.name)?.set(id, record);
    const externalId = record[object.externalIdField];
    if (typeof externalId === "string") this.byExternalId.get(object.name)?.set(externalId, id);
    return record;
  }

  /** Deletes every record of every object. */
  clear(): void {
    for (const table of this.tables.values()) table.clear();
    for (const index of this.byExternalId.values()) index.clear();
  }
}

import type { EmulatorClock } from "./emulator-state.js";
import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { OrgSchema } from "./org-schema.js";
import { customObjectKeyPrefix, IdGenerator } from "./salesforce-ids.js";
import type { WriteHistory, WriteSource } from "./write-history.js";

/** A stored record: `Id`, the audit fields and field values by API name. */
export type StoredRecord = Record<string, unknown> & { Id: string };

/** Salesforce's DateTime rendering, e.g. `2024-05-01T10:00:00.000+0000`. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+0000");
}

/** What the store holds at one moment, to roll a transaction back to. */
export interface StoreSnapshot {
  tables: Map<string, Map<string, StoredRecord>>;
  byExternalId: Map<string, Map<string, string>>;
  historyLength: number;
}

/** The emulated org's data: one table per object definition, indexed by Id and External ID. */
export class RecordStore {
  private tables = new Map<string, Map<string, StoredRecord>>();
  private byExternalId = new Map<string, Map<string, string>>();
  private readonly keyPrefixes = new Map<string, string>();
  private readonly ids = new IdGenerator();

  constructor(
    readonly schema: OrgSchema,
    private readonly clock: EmulatorClock,
    readonly history: WriteHistory,
  ) {
    schema.originalObjects().forEach((object, index) => {
      this.keyPrefixes.set(object.name, customObjectKeyPrefix(index));
      this.tables.set(object.name, new Map());
      this.byExternalId.set(object.name, new Map());
    });
  }

  /** The definition of `name` as the org has it now (case-insensitive, as Salesforce resolves API names). */
  definition(name: string): ObjectDefinition | undefined {
    return this.schema.definition(name);
  }

  /** Every object the org has now, in the order given. */
  objects(): ObjectDefinition[] {
    return this.schema.objects();
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

  /** Every record of an object, oldest first (also of a dropped object, for assertions). */
  list(objectName: string): StoredRecord[] {
    const definition =
      this.definition(objectName) ??
      this.schema.originalObjects().find((o) => o.name.toLowerCase() === objectName.toLowerCase());
    return definition ? [...(this.tables.get(definition.name)?.values() ?? [])] : [];
  }

  /** Reserves the Id a new record will get, so Name can default to it. */
  newId(objectName: string): string {
    return this.ids.next(this.keyPrefix(objectName));
  }

  /** Inserts (when `existing` is undefined) or updates a record, maintains the audit fields and the history. */
  write(
    object: ObjectDefinition,
    id: string,
    fields: Record<string, unknown>,
    existing: StoredRecord | undefined,
    source: WriteSource,
  ): StoredRecord {
    const nowMs = this.clock.now();
    const now = formatDateTime(nowMs);
    const record: StoredRecord = existing
      ? { ...existing, ...fields, Id: id, LastModifiedDate: now, SystemModstamp: now }
      : { Id: id, ...fields, CreatedDate: now, LastModifiedDate: now, SystemModstamp: now };
    this.tables.get(object.name)?.set(id, record);
    const externalId = record[object.externalIdField];
    if (typeof externalId === "string") this.byExternalId.get(object.name)?.set(externalId, id);
    this.history.append({
      object: object.name,
      externalId: String(externalId),
      recordId: id,
      outcome: existing ? "updated" : "created",
      fields: structuredClone(fields),
      source,
      at: new Date(nowMs).toISOString(),
    });
    return record;
  }

  /** A copy of every table, for `restore` to roll a transaction back. */
  snapshot(): StoreSnapshot {
    const copy = <V>(maps: Map<string, Map<string, V>>) =>
      new Map([...maps].map(([name, table]) => [name, new Map(table)]));
    return {
      tables: copy(this.tables),
      byExternalId: copy(this.byExternalId),
      historyLength: this.history.size(),
    };
  }

  /** Puts the tables back as `snapshot` found them; the writes since leave the history too. */
  restore(snapshot: StoreSnapshot): void {
    this.tables = snapshot.tables;
    this.byExternalId = snapshot.byExternalId;
    this.history.truncate(snapshot.historyLength);
  }

  /** Deletes every record of every object. */
  clear(): void {
    for (const table of this.tables.values()) table.clear();
    for (const index of this.byExternalId.values()) index.clear();
  }
}

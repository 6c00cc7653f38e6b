/** How a write reached the org. */
export type WriteSource = "collections_upsert" | "upsert" | "composite" | "bulk";

/** One record write as the org applied it. */
export interface WriteEntry {
  /** Object API name, e.g. `Stripe_Customer__c`. */
  object: string;
  /** The record's External ID value. */
  externalId: string;
  /** The record's 18-character Id. */
  recordId: string;
  /** Whether the upsert inserted or updated the record. */
  outcome: "created" | "updated";
  /** The fields the write set, by API name (lookups set through `__r` appear as the resolved Id). */
  fields: Record<string, unknown>;
  /** The call that wrote it; a composite subrequest is `composite`. */
  source: WriteSource;
  /** When the emulator's clock says the write happened (ISO 8601). */
  at: string;
}

/** Every record write since the emulator started or was reset, oldest first. */
export class WriteHistory {
  private entries: WriteEntry[] = [];

  /** Appends one write. */
  append(entry: WriteEntry): void {
    this.entries.push(entry);
  }

  /** The writes of one object (case-insensitive), or of all objects. */
  list(objectName?: string): WriteEntry[] {
    const lower = objectName?.toLowerCase();
    return this.entries
      .filter((entry) => lower === undefined || entry.object.toLowerCase() === lower)
      .map((entry) => structuredClone(entry));
  }

  /** Forgets the writes after the first `length` (a rolled-back transaction never happened). */
  truncate(length: number): void {
    this.entries = this.entries.slice(0, length);
  }

  /** How many writes are recorded. */
  size(): number {
    return this.entries.length;
  }

  /** Forgets every write. */
  clear(): void {
    this.entries = [];
  }
}

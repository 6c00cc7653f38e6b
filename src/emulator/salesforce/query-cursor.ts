import { randomBytes } from "node:crypto";
import { RequestError } from "./validate-record.js";

/** Salesforce's default (and largest) query batch: 2,000 records per answer. */
export const DEFAULT_QUERY_BATCH_SIZE = 2000;
const MIN_BATCH_SIZE = 200;

/** One page of a query answer, shaped like Salesforce's. */
export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: Array<Record<string, unknown>>;
}

interface Cursor {
  records: Array<Record<string, unknown>>;
  totalSize: number;
  batchSize: number;
  apiVersion: string;
}

/** The batch size asked for in `Sforce-Query-Options: batchSize=N` (200-2000), else 2,000. */
export function readBatchSize(header: string | string[] | undefined): number {
  const value = (Array.isArray(header) ? header[0] : header)?.match(/batchSize=(\d+)/i)?.[1];
  if (value === undefined) return DEFAULT_QUERY_BATCH_SIZE;
  return Math.min(DEFAULT_QUERY_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(value)));
}

/** Open query locators: the rest of each query beyond its first batch, read with `nextRecordsUrl`. */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();

  /** The first page of `rows`; when more remain, a locator for the rest. */
  open(
    rows: { totalSize: number; records: Array<Record<string, unknown>> },
    batchSize: number,
    apiVersion: string,
  ): QueryPage {
    if (rows.records.length <= batchSize)
      return { totalSize: rows.totalSize, done: true, records: rows.records };
    const id = `01g${randomBytes(6).toString("hex").slice(0, 12).toUpperCase()}`;
    this.cursors.set(id, { records: rows.records, totalSize: rows.totalSize, batchSize, apiVersion });
    return this.page(id, 0);
  }

  /** `GET /query/{locator}`: the page starting at the locator's offset (`01g...-2000`). */
  next(locator: string): QueryPage {
    const [, id = "", offset = ""] = locator.match(/^(01g\w+)-(\d+)$/) ?? [];
    if (!this.cursors.has(id)) throw new RequestError("INVALID_QUERY_LOCATOR", "invalid query locator", 400);
    return this.page(id, Number(offset));
  }

  /** Forgets every open locator. */
  clear(): void {
    this.cursors.clear();
  }

  private page(id: string, offset: number): QueryPage {
    const cursor = this.cursors.get(id);
    if (!cursor) throw new RequestError("INVALID_QUERY_LOCATOR", "invalid query locator", 400);
    const end = offset + cursor.batchSize;
    const records = cursor.records.slice(offset, end);
    if (end >= cursor.records.length) {
      this.cursors.delete(id);
      return { totalSize: cursor.totalSize, done: true, records };
    }
    return {
      totalSize: cursor.totalSize,
      done: false,
      nextRecordsUrl: `/services/data/v${cursor.apiVersion}/query/${id}-${end}`,
      records,
    };
  }
}

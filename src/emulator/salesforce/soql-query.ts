import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { RecordStore, StoredRecord } from "./record-store.js";
import { parseSoql } from "./soql-parser.js";
import { findField, findRelationship, RequestError } from "./validate-record.js";

const STANDARD_FIELDS = ["Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"];

/** A path such as `Stripe_Customer__r.Name` resolved against the objects: how to read it and its API name. */
interface ResolvedPath {
  relationship?: { name: string; lookup: string; parent: ObjectDefinition };
  field: string;
}

function resolveField(object: ObjectDefinition, name: string): string {
  const standard = STANDARD_FIELDS.find((f) => f.toLowerCase() === name.toLowerCase());
  const field = standard ?? findField(object, name)?.name;
  if (!field) throw new RequestError("INVALID_FIELD", `No such column '${name}' on entity '${object.name}'.`);
  return field;
}

function resolvePath(object: ObjectDefinition, path: string, store: RecordStore): ResolvedPath {
  const [first, second, ...more] = path.split(".");
  if (second === undefined) return { field: resolveField(object, first ?? "") };
  const lookup = findRelationship(object, first ?? "");
  const parent = lookup?.referenceTo ? store.definition(lookup.referenceTo) : undefined;
  if (!lookup || !parent || more.length > 0) {
    throw new RequestError("INVALID_FIELD", `Didn't understand relationship '${first}' in field path.`);
  }
  return {
    relationship: { name: lookup.relationshipName ?? "", lookup: lookup.name, parent },
    field: resolveField(parent, second),
  };
}

function read(record: StoredRecord, path: ResolvedPath, store: RecordStore): unknown {
  if (!path.relationship) return record[path.field] ?? null;
  const parentId = record[path.relationship.lookup];
  const parent =
    typeof parentId === "string" ? store.findById(path.relationship.parent.name, parentId) : undefined;
  return parent ? (parent[path.field] ?? null) : null;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const dateA = typeof a === "string" && /^\d{4}-\d{2}-\d{2}T/.test(a) ? Date.parse(a) : NaN;
  const dateB = typeof b === "string" && /^\d{4}-\d{2}-\d{2}T/.test(b) ? Date.parse(b) : NaN;
  if (!Number.isNaN(dateA) && !Number.isNaN(dateB)) return dateA - dateB;
  return String(a) < String(b) ? -1 : 1;
}

const MATCHES: Record<string, (order: number) => boolean> = {
  "=": (o) => o === 0,
  "!=": (o) => o !== 0,
  "<": (o) => o < 0,
  ">": (o) => o > 0,
  "<=": (o) => o <= 0,
  ">=": (o) => o >= 0,
};

/** SOQL text comparison is case-insensitive; `= null` matches empty fields. */
function order(value: unknown, target: unknown): number {
  return typeof value === "string" && typeof target === "string" && !/^\d{4}-/.test(target)
    ? value.toLowerCase().localeCompare(target.toLowerCase())
    : compare(value, target);
}

/**
 * A condition's test of one value. IN over text compares case-insensitively through one set, so a
 * query naming hundreds of ids against thousands of records stays linear.
 */
function matcherOf(operator: string, target: unknown): (value: unknown) => boolean {
  if (operator === "IN" || operator === "NOT IN") {
    const candidates = target as unknown[];
    const texts = new Set(
      candidates
        .filter((c): c is string => typeof c === "string" && !/^\d{4}-/.test(c))
        .map((c) => c.toLowerCase()),
    );
    const others = candidates.filter((c) => !(typeof c === "string" && texts.has(c.toLowerCase())));
    const isIn = (value: unknown) =>
      (typeof value === "string" && texts.has(value.toLowerCase())) ||
      others.some((candidate) => order(value, candidate) === 0);
    return operator === "IN" ? isIn : (value) => !isIn(value);
  }
  return (value) => MATCHES[operator]?.(Math.sign(order(value, target))) ?? false;
}

/** Every row a query selects (no paging), with `attributes` as Salesforce renders them. */
export function runSoql(
  soql: string,
  store: RecordStore,
  apiVersion: string,
): { totalSize: number; records: Array<Record<string, unknown>> } {
  const query = parseSoql(soql);
  const object = store.definition(query.from);
  if (!object)
    throw new RequestError(
      "INVALID_TYPE",
      `sObject type '${query.from}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  const conditions = query.where.map((condition) => ({
    path: resolvePath(object, condition.field, store),
    matches: matcherOf(condition.operator, condition.value),
  }));
  let rows = store
    .list(object.name)
    .filter((record) => conditions.every((c) => c.matches(read(record, c.path, store))));
  if (query.orderBy) {
    const path = resolvePath(object, query.orderBy.field, store);
    const direction = query.orderBy.isDescending ? -1 : 1;
    rows = [...rows].sort((a, b) => direction * compare(read(a, path, store), read(b, path, store)));
  }
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);
  if (query.isCount) return { totalSize: rows.length, records: [] };
  const selected = query.fields.map((field) => resolvePath(object, field, store));
  const attributes = (type: string, id: unknown) => ({
    type,
    url: `/services/data/v${apiVersion}/sobjects/${type}/${String(id)}`,
  });
  const records = rows.map((record) => {
    const out: Record<string, unknown> = { attributes: attributes(object.name, record.Id) };
    for (const path of selected) {
      if (!path.relationship) {
        out[path.field] = read(record, path, store);
        continue;
      }
      const parentId = record[path.relationship.lookup];
      const parent =
        typeof parentId === "string" ? store.findById(path.relationship.parent.name, parentId) : undefined;
      if (!parent) {
        out[path.relationship.name] = null;
        continue;
      }
      const nested = (out[path.relationship.name] ??= {
        attributes: attributes(path.relationship.parent.name, parent.Id),
      }) as Record<string, unknown>;
      nested[path.field] = parent[path.field] ?? null;
    }
    return out;
  });
  return { totalSize: records.length, records };
}

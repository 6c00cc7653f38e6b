import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { RecordStore, StoredRecord } from "./record-store.js";
import { findField, findRelationship, RequestError } from "./validate-record.js";

/** A parsed query of the small SOQL subset the emulator answers. */
interface ParsedQuery {
  isCount: boolean;
  fields: string[];
  from: string;
  where: Array<{ field: string; operator: string; value: unknown }>;
  orderBy?: { field: string; isDescending: boolean };
  limit?: number;
}

const TOKEN =
  /\s*(?:('(?:[^'\\]|\\.)*')|(!=|<>|<=|>=|[=<>(),*])|([A-Za-z_][\w.]*(?:\(\))?|[-+]?\d[\w.:+-]*))/y;
const STANDARD_FIELDS = ["Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"];

function tokenize(soql: string): string[] {
  const source = soql.trim();
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const match = TOKEN.exec(source);
    if (!match)
      throw new RequestError(
        "MALFORMED_QUERY",
        `unexpected token near: ${source.slice(TOKEN.lastIndex, TOKEN.lastIndex + 20)}`,
      );
    tokens.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return tokens;
}

function literal(token: string | undefined): unknown {
  if (token === undefined) throw new RequestError("MALFORMED_QUERY", "missing value");
  if (token.startsWith("'")) return token.slice(1, -1).replace(/\\(.)/g, "$1");
  const lower = token.toLowerCase();
  if (lower === "null") return null;
  if (lower === "true" || lower === "false") return lower === "true";
  if (/^[-+]?\d+(\.\d+)?$/.test(token)) return Number(token);
  if (/^\d{4}-\d{2}-\d{2}T/.test(token)) return token;
  throw new RequestError("MALFORMED_QUERY", `unexpected value: ${token}`);
}

/** Parses `SELECT f, Rel__r.F FROM Obj [WHERE a = 'x' [AND ...]] [ORDER BY f [ASC|DESC]] [LIMIT n]` and `SELECT COUNT() FROM Obj`. */
export function parseSoql(soql: string): ParsedQuery {
  const tokens = tokenize(soql);
  let position = 0;
  const peek = () => tokens[position]?.toUpperCase();
  const next = () => tokens[position++];
  const expect = (word: string) => {
    if (peek() !== word)
      throw new RequestError("MALFORMED_QUERY", `expected ${word} near ${tokens[position] ?? "end"}`);
    position++;
  };
  expect("SELECT");
  const fields: string[] = [];
  let isCount = false;
  if (peek() === "COUNT()") {
    isCount = true;
    next();
  } else {
    do {
      if (peek() === ",") next();
      const field = next();
      if (!field || field === ",") throw new RequestError("MALFORMED_QUERY", "expected a field name");
      fields.push(field);
    } while (peek() === ",");
  }
  expect("FROM");
  const from = next() ?? "";
  const query: ParsedQuery = { isCount, fields, from, where: [] };
  if (peek() === "WHERE") {
    next();
    do {
      if (peek() === "AND") next();
      const field = next() ?? "";
      const operator = next() ?? "";
      if (!["=", "!=", "<>", "<", ">", "<=", ">="].includes(operator)) {
        throw new RequestError("MALFORMED_QUERY", `unsupported operator ${operator}`);
      }
      query.where.push({ field, operator: operator === "<>" ? "!=" : operator, value: literal(next()) });
    } while (peek() === "AND");
  }
  if (peek() === "ORDER") {
    next();
    expect("BY");
    const field = next() ?? "";
    let isDescending = false;
    if (peek() === "ASC" || peek() === "DESC") isDescending = next()?.toUpperCase() === "DESC";
    query.orderBy = { field, isDescending };
  }
  if (peek() === "LIMIT") {
    next();
    query.limit = Number(next());
    if (!Number.isInteger(query.limit) || query.limit < 0)
      throw new RequestError("MALFORMED_QUERY", "LIMIT must be a number");
  }
  if (position < tokens.length)
    throw new RequestError("MALFORMED_QUERY", `unexpected token: ${tokens[position]}`);
  return query;
}

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

/** Runs a query on the store; answers `{totalSize, done, records}` with `attributes` as Salesforce does. */
export function runSoql(soql: string, store: RecordStore, apiVersion: string): Record<string, unknown> {
  const query = parseSoql(soql);
  const object = store.definition(query.from);
  if (!object) throw new RequestError("INVALID_TYPE", `sObject type '${query.from}' is not supported.`);
  const conditions = query.where.map((condition) => ({
    ...condition,
    path: resolvePath(object, condition.field, store),
  }));
  let rows = store.list(object.name).filter((record) =>
    conditions.every((c) => {
      const value = read(record, c.path, store);
      // SOQL text comparison is case-insensitive; `= null` matches empty fields.
      const order =
        typeof value === "string" && typeof c.value === "string" && !/^\d{4}-/.test(c.value)
          ? value.toLowerCase().localeCompare(c.value.toLowerCase())
          : compare(value, c.value);
      return MATCHES[c.operator]?.(Math.sign(order)) ?? false;
    }),
  );
  if (query.orderBy) {
    const path = resolvePath(object, query.orderBy.field, store);
    const direction = query.orderBy.isDescending ? -1 : 1;
    rows = [...rows].sort((a, b) => direction * compare(read(a, path, store), read(b, path, store)));
  }
  if (query.limit !== undefined) rows = rows.slice(0, query.limit);
  if (query.isCount) return { totalSize: rows.length, done: true, records: [] };
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
  return { totalSize: records.length, done: true, records };
}

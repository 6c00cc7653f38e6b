import type { RecordQuery } from "../../domain/sync/salesforce-port.js";

/** Most ids one query carries. */
export const MAX_IDS_PER_QUERY = 200;
/**
 * Longest URL-encoded SOQL text of one query, bytes: Salesforce refuses a URI and headers over
 * 16,384 bytes (414/431), and warns that the server-side form of a query is longer still.
 */
export const MAX_ENCODED_QUERY_BYTES = 8_000;

/** A SOQL string literal: backslash and quote escaped, and the other escapes SOQL defines. */
export function soqlString(value: string): string {
  const escaped = value
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "\\'")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(/\f/g, "\\f")
    .replace(/"/g, '\\"');
  return `'${escaped}'`;
}

/** A field or object API name, checked so that nothing but a name reaches the query text. */
function apiName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/.test(name))
    throw new Error(`not an API name: ${name}`);
  return name;
}

/**
 * The SOQL texts that read `query`'s records: `SELECT Id, <ext>, <fields> FROM <object> WHERE
 * <ext> IN ('…', …)`, as few as the limits allow (at most MAX_IDS_PER_QUERY ids and
 * MAX_ENCODED_QUERY_BYTES encoded bytes each). Duplicate ids are asked once.
 */
export function soqlByExternalIds(query: RecordQuery): string[] {
  const fields = [...new Set(["Id", query.externalIdField, ...query.fields])].map(apiName).join(", ");
  const head = `SELECT ${fields} FROM ${apiName(query.objectName)} WHERE ${apiName(query.externalIdField)} IN (`;
  const headBytes = encodeURIComponent(head).length + 3;
  const texts: string[] = [];
  let literals: string[] = [];
  let bytes = headBytes;
  for (const id of new Set(query.externalIds)) {
    const literal = soqlString(id);
    const cost = encodeURIComponent(literal).length + 3;
    if (
      literals.length > 0 &&
      (literals.length >= MAX_IDS_PER_QUERY || bytes + cost > MAX_ENCODED_QUERY_BYTES)
    ) {
      texts.push(`${head}${literals.join(", ")})`);
      literals = [];
      bytes = headBytes;
    }
    literals.push(literal);
    bytes += cost;
  }
  if (literals.length > 0) texts.push(`${head}${literals.join(", ")})`);
  return texts;
}

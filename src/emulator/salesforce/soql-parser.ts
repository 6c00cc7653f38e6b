import { RequestError } from "./validate-record.js";

/** One WHERE condition: `field op value`, or `field [NOT] IN (values)`. */
export interface Condition {
  field: string;
  operator: string;
  value: unknown;
}

/** A parsed query of the small SOQL subset the emulator answers. */
export interface ParsedQuery {
  isCount: boolean;
  fields: string[];
  from: string;
  where: Condition[];
  orderBy?: { field: string; isDescending: boolean };
  limit?: number;
}

/** Salesforce's default maximum SOQL statement length, in characters. */
export const MAX_SOQL_LENGTH = 100_000;
/** Maximum length of one string literal in a WHERE clause. */
export const MAX_WHERE_STRING_LENGTH = 4_000;

const TOKEN =
  /\s*(?:('(?:[^'\\]|\\.)*')|(!=|<>|<=|>=|[=<>(),*])|([A-Za-z_][\w.]*(?:\(\))?|[-+]?\d[\w.:+-]*))/y;

// https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
const ESCAPES: Record<string, string> = {
  n: "\n",
  r: "\r",
  t: "\t",
  b: "\b",
  f: "\f",
  '"': '"',
  "'": "'",
  "\\": "\\",
};

function malformed(message: string): RequestError {
  return new RequestError("MALFORMED_QUERY", message);
}

function tokenize(soql: string): string[] {
  const source = soql.trim();
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const match = TOKEN.exec(source);
    if (!match)
      throw malformed(`unexpected token near: ${source.slice(TOKEN.lastIndex, TOKEN.lastIndex + 20)}`);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return tokens;
}

/** The text of a quoted SOQL string literal, escapes resolved; a backslash before anything else is an error. */
export function unquote(token: string): string {
  const inner = token.slice(1, -1);
  let out = "";
  for (let i = 0; i < inner.length; i++) {
    const char = inner.charAt(i);
    if (char !== "\\") {
      out += char;
      continue;
    }
    const next = inner.charAt(++i);
    // \N, \R, \T, \B and \F are accepted in upper case too.
    const simple = ESCAPES[next] ?? (/^[NRTBF]$/.test(next) ? ESCAPES[next.toLowerCase()] : undefined);
    if (simple !== undefined) {
      out += simple;
    } else if (next === "u" && /^[0-9a-fA-F]{4}$/.test(inner.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(inner.slice(i + 1, i + 5), 16));
      i += 4;
    } else {
      throw malformed(
        `Invalid string literal '${inner}'. Illegal character sequence '\\${next}' in string literal.`,
      );
    }
  }
  if (out.length > MAX_WHERE_STRING_LENGTH)
    throw malformed(`string literals in a WHERE clause are limited to ${MAX_WHERE_STRING_LENGTH} characters`);
  return out;
}

function literal(token: string | undefined): unknown {
  if (token === undefined) throw malformed("missing value");
  if (token.startsWith("'")) return unquote(token);
  const lower = token.toLowerCase();
  if (lower === "null") return null;
  if (lower === "true" || lower === "false") return lower === "true";
  if (/^[-+]?\d+(\.\d+)?$/.test(token)) return Number(token);
  if (/^\d{4}-\d{2}-\d{2}T/.test(token)) return token;
  throw malformed(`unexpected value: ${token}`);
}

/**
 * Parses `SELECT f, Rel__r.F FROM Obj [WHERE a = 'x' [AND b IN ('y','z') ...]] [ORDER BY f [ASC|DESC]] [LIMIT n]`
 * and `SELECT COUNT() FROM Obj`; refuses statements longer than Salesforce's 100,000 characters.
 */
export function parseSoql(soql: string): ParsedQuery {
  if (soql.length > MAX_SOQL_LENGTH)
    throw malformed(`SOQL statements cannot be longer than ${MAX_SOQL_LENGTH} characters`);
  const tokens = tokenize(soql);
  let position = 0;
  const peek = () => tokens[position]?.toUpperCase();
  const next = () => tokens[position++];
  const expect = (word: string) => {
    if (peek() !== word) throw malformed(`expected ${word} near ${tokens[position] ?? "end"}`);
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
      if (!field || field === ",") throw malformed("expected a field name");
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
      let operator = (next() ?? "").toUpperCase();
      if (operator === "NOT" && peek() === "IN") operator = `NOT ${next()?.toUpperCase()}`;
      if (operator === "IN" || operator === "NOT IN") {
        expect("(");
        const values: unknown[] = [];
        do {
          if (peek() === ",") next();
          values.push(literal(next()));
        } while (peek() === ",");
        expect(")");
        query.where.push({ field, operator, value: values });
        continue;
      }
      if (!["=", "!=", "<>", "<", ">", "<=", ">="].includes(operator))
        throw malformed(`unsupported operator ${operator}`);
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
    if (!Number.isInteger(query.limit) || query.limit < 0) throw malformed("LIMIT must be a number");
  }
  if (position < tokens.length) throw malformed(`unexpected token: ${tokens[position]}`);
  return query;
}

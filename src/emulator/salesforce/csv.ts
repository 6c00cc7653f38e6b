/** Bulk API 2.0 column delimiters by name. */
export const COLUMN_DELIMITERS: Record<string, string> = {
  COMMA: ",",
  TAB: "\t",
  PIPE: "|",
  SEMICOLON: ";",
  CARET: "^",
  BACKQUOTE: "`",
};

/** Parses RFC 4180 CSV (quoted fields may hold delimiters, quotes doubled, and line breaks) into rows. */
export function parseCsv(text: string, delimiter = ","): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let isQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (isQuoted) {
      if (char === '"' && text.charAt(i + 1) === '"') {
        field += '"';
        i++;
      } else if (char === '"') isQuoted = false;
      else field += char;
    } else if (char === '"') isQuoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text.charAt(i + 1) === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Writes rows as CSV with every field quoted, as Salesforce writes Bulk API results, LF line endings. */
export function writeCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map((field) => `"${field.replace(/"/g, '""')}"`).join(",")).join("\n") + "\n";
}

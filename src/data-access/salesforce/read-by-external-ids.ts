import type { RecordQuery, SalesforceRecord } from "../../domain/sync/salesforce-port.js";
import { MAX_HEAVY_SUBREQUESTS, parseJson, sendComposite, type RestCall } from "./composite-request.js";
import { toSyncError } from "./salesforce-errors.js";
import { soqlByExternalIds } from "./soql-by-external-ids.js";

/** One page of a SOQL answer. */
interface QueryPage {
  done?: boolean;
  nextRecordsUrl?: string;
  records?: SalesforceRecord[];
}

/** A query record without Salesforce's `attributes` (type and URL). */
function withoutAttributes(record: SalesforceRecord): SalesforceRecord {
  const { attributes: _attributes, ...fields } = record;
  return fields;
}

/** Follows `nextRecordsUrl` until the query is done (each page one call; rare at 200 ids a query). */
async function restOfPages(call: RestCall, first: QueryPage): Promise<SalesforceRecord[]> {
  const records = (first.records ?? []).map(withoutAttributes);
  let next = first.done === false ? first.nextRecordsUrl : undefined;
  while (next) {
    const page = parseJson<QueryPage>("query", await call("query", "GET", next));
    records.push(...(page.records ?? []).map(withoutAttributes));
    next = page.done === false ? page.nextRecordsUrl : undefined;
  }
  return records;
}

/**
 * Reads records by External ID: one SOQL query per object (more only past one query's limits).
 * One query is one GET; several ride in Composite requests of up to five queries each (one API
 * call each). A query Salesforce refuses throws, classified like any whole-call failure (a mapped
 * field the org lacks is the org's problem: the worker pauses).
 */
export async function readByExternalIds(
  call: RestCall,
  apiVersion: string,
  queries: readonly RecordQuery[],
): Promise<SalesforceRecord[][]> {
  const texts = queries.flatMap((query, owner) => soqlByExternalIds(query).map((soql) => ({ owner, soql })));
  const found: SalesforceRecord[][] = queries.map(() => []);
  const url = (soql: string) => `/services/data/v${apiVersion}/query?q=${encodeURIComponent(soql)}`;
  if (texts.length === 1) {
    const only = texts[0] as { owner: number; soql: string };
    const page = parseJson<QueryPage>("query", await call("query", "GET", url(only.soql)));
    (found[only.owner] as SalesforceRecord[]).push(...(await restOfPages(call, page)));
    return found;
  }
  for (let i = 0; i < texts.length; i += MAX_HEAVY_SUBREQUESTS) {
    const slice = texts.slice(i, i + MAX_HEAVY_SUBREQUESTS);
    const answers = await sendComposite(
      call,
      apiVersion,
      "query",
      slice.map(({ soql }) => ({ method: "GET" as const, url: url(soql) })),
    );
    for (const [j, { owner }] of slice.entries()) {
      const answer = answers[j] as { status: number; body: unknown };
      if (answer.status < 200 || answer.status >= 300)
        throw toSyncError("query", answer.status, JSON.stringify(answer.body));
      (found[owner] as SalesforceRecord[]).push(...(await restOfPages(call, answer.body as QueryPage)));
    }
  }
  return found;
}

import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import { inSpan } from "../../shared/in-span.js";
import { SPAN_ATTRIBUTE } from "../../shared/span-attributes.js";

/** What one Salesforce REST call does, read from its path and body. */
export interface SalesforceCallSubject {
  /** `collections_upsert`, `composite`, `query`, `describe`, `limits`, `token`... */
  operation: string;
  /** The objects it reads or writes, in order, once each. */
  objects: string[];
  /** Records it writes, when it writes. */
  records?: number;
  /** Subrequests of a Composite call. */
  subrequests?: number;
}

const DATA_PATH = /^\/services\/data\/v[\d.]+\/(.*)$/;

/** The object a SOQL statement reads (`... FROM Stripe_Customer__c WHERE ...`). */
function objectOfSoql(soql: string | null): string[] {
  const match = soql?.match(/\bFROM\s+(\w+)/i);
  return match?.[1] ? [match[1]] : [];
}

/** The records of a collections body (`{ records: [...] }`). */
function recordsOf(body: unknown): number | undefined {
  const records = (body as { records?: unknown } | undefined)?.records;
  return Array.isArray(records) ? records.length : undefined;
}

/** The request body as JSON, when it is a JSON string. */
function parsed(body: unknown): unknown {
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** The operation, objects and record count of a call to `url` sending `body` (a Composite call: of its subrequests). */
export function describeSalesforceCall(url: URL, body?: unknown): SalesforceCallSubject {
  return subjectOf(url, parsed(body));
}

function subjectOf(url: URL, json: unknown): SalesforceCallSubject {
  if (url.pathname === "/services/oauth2/token") return { operation: "token", objects: [] };
  const rest = url.pathname.match(DATA_PATH)?.[1];
  if (rest === undefined) return { operation: "versions", objects: [] };
  const parts = rest.split("/").map(decodeURIComponent);
  if (parts[0] === "composite" && parts[1] === "sobjects" && parts[2]) {
    const records = recordsOf(json);
    return {
      operation: "collections_upsert",
      objects: [parts[2]],
      ...(records === undefined ? {} : { records }),
    };
  }
  if (parts[0] === "composite" && parts.length === 1) {
    const subrequests = (json as { compositeRequest?: { url?: unknown; body?: unknown }[] } | undefined)
      ?.compositeRequest;
    const subjects = (subrequests ?? []).map((sub) => subjectOf(new URL(String(sub.url), url), sub.body));
    const records = subjects.reduce((sum, subject) => sum + (subject.records ?? 0), 0);
    return {
      operation: "composite",
      objects: [...new Set(subjects.flatMap((subject) => subject.objects))],
      subrequests: subjects.length,
      ...(records > 0 ? { records } : {}),
    };
  }
  if (parts[0] === "query")
    return parts[1]
      ? { operation: "query_more", objects: [] }
      : { operation: "query", objects: objectOfSoql(url.searchParams.get("q")) };
  if (parts[0] === "sobjects" && parts[2] === "describe")
    return { operation: "describe", objects: [parts[1]!] };
  if (parts[0] === "sobjects" && parts.length === 4)
    return { operation: "upsert", objects: [parts[1]!], records: 1 };
  if (parts[0] === "limits") return { operation: "limits", objects: [] };
  return { operation: parts[0] ?? "request", objects: [] };
}

/** `api-usage=25/15000` from Sforce-Limit-Info. */
function apiUsageOf(header: string | null): { used: number; limit: number } | undefined {
  const match = header?.match(/api-usage=(\d+)\/(\d+)/);
  return match ? { used: Number(match[1]), limit: Number(match[2]) } : undefined;
}

/**
 * The Salesforce client's `fetch` with a client span per HTTP call (`salesforce composite`,
 * `salesforce token`...): the objects and record count it carries, the answer's status and the
 * org's API usage from `Sforce-Limit-Info`. A 401 and its retry with a fresh token are two spans.
 * The span ends when the answer's headers arrive.
 */
export function tracedSalesforceFetch(doFetch: typeof fetch, tracer: Tracer): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    const subject = describeSalesforceCall(url, init?.body);
    return inSpan(
      tracer,
      `salesforce ${subject.operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [SPAN_ATTRIBUTE.salesforceOperation]: subject.operation,
          [SPAN_ATTRIBUTE.httpMethod]: method,
          [SPAN_ATTRIBUTE.serverAddress]: url.hostname,
          ...(subject.objects.length > 0 ? { [SPAN_ATTRIBUTE.salesforceObjects]: subject.objects } : {}),
          ...(subject.records === undefined
            ? {}
            : { [SPAN_ATTRIBUTE.salesforceRecordCount]: subject.records }),
          ...(subject.subrequests === undefined
            ? {}
            : { [SPAN_ATTRIBUTE.salesforceSubrequests]: subject.subrequests }),
        },
      },
      async (span) => {
        const response = await doFetch(input, init);
        span.setAttribute(SPAN_ATTRIBUTE.httpStatus, response.status);
        const usage = apiUsageOf(response.headers.get("sforce-limit-info"));
        if (usage) {
          span.setAttribute(SPAN_ATTRIBUTE.salesforceApiUsed, usage.used);
          span.setAttribute(SPAN_ATTRIBUTE.salesforceApiLimit, usage.limit);
        }
        if (response.status >= 400)
          span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
        return response;
      },
    );
  };
}

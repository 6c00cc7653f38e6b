import { requestSalesforceToken } from "../../src/data-access/salesforce/salesforce-auth.js";
import type { SalesforceEmulator } from "../../src/emulator/salesforce/index.js";
import { credentials } from "./salesforce-test-kit.js";

/** An answer read back from the emulator: status, headers and the parsed JSON (or text) body. */
export interface EmulatorAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A signed-in HTTP client of one emulator, speaking its REST API at `version`. */
export interface EmulatorHttp {
  token: string;
  /** `/services/data/v62.0` on the emulator. */
  base: string;
  /** Sends `body` as JSON (or text as given) with the session's bearer token. */
  call(
    path: string,
    init?: { method?: string; body?: unknown; text?: string; headers?: Record<string, string> },
  ): Promise<EmulatorAnswer>;
  /** A collections upsert of `records` (attributes added) on `object` by its External ID field. */
  upsert(
    object: string,
    externalIdField: string,
    records: object[],
    allOrNone?: boolean,
  ): Promise<EmulatorAnswer>;
  /** A SOQL query through `GET /query?q=`. */
  query(soql: string, headers?: Record<string, string>): Promise<EmulatorAnswer>;
}

/** Signs in to `emulator` with the client credentials flow and returns an HTTP client. */
export async function openSession(emulator: SalesforceEmulator, version = "62.0"): Promise<EmulatorHttp> {
  const token = (
    await requestSalesforceToken({
      loginUrl: emulator.url,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    })
  ).accessToken;
  const base = `/services/data/v${version}`;
  const call: EmulatorHttp["call"] = async (path, init = {}) => {
    const response = await fetch(`${emulator.url}${path}`, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": init.text === undefined ? "application/json" : "text/csv",
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.text === undefined ? {} : { body: init.text }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // CSV and plain-text answers stay text.
    }
    return { status: response.status, headers: response.headers, body };
  };
  return {
    token,
    base,
    call,
    upsert: (object, externalIdField, records, allOrNone = false) =>
      call(`${base}/composite/sobjects/${object}/${externalIdField}`, {
        method: "PATCH",
        body: { allOrNone, records: records.map((r) => ({ attributes: { type: object }, ...r })) },
      }),
    query: (soql, headers) => call(`${base}/query?q=${encodeURIComponent(soql)}`, headers ? { headers } : {}),
  };
}

/** The error codes of an answer whose body is Salesforce's error array. */
export function errorCodes(answer: EmulatorAnswer): string[] {
  return (answer.body as Array<{ errorCode: string }>).map((e) => e.errorCode);
}

/** The first error code of each record result in a collections answer ("ok" for a success). */
export function recordCodes(body: unknown): string[] {
  return (body as Array<{ errors: Array<{ statusCode: string }> }>).map(
    (r) => r.errors[0]?.statusCode ?? "ok",
  );
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { describeObject } from "./describe-object.js";
import type { EmulatorOperation } from "./emulator-stats.js";
import { sendJson, type EmulatorState } from "./emulator-state.js";
import { runSoql } from "./soql-query.js";
import { upsertCollection, upsertSingle } from "./upsert-records.js";
import { RequestError } from "./validate-record.js";

const OLDEST_VERSION = 20;
const LATEST_VERSION = 64;
// sObject Collections upsert by external id exists from API 46.0 on.
const COLLECTIONS_UPSERT_VERSION = 46;

const NOT_FOUND = [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }];

/** `GET /services/data/`: the versions the org speaks; this answer carries no Sforce-Limit-Info. */
function listVersions(): Array<{ label: string; url: string; version: string }> {
  const versions = [];
  for (let v = OLDEST_VERSION; v <= LATEST_VERSION; v++) {
    versions.push({ label: `v${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return versions;
}

type Route = { operation: EmulatorOperation; run: () => { status: number; body: unknown } };

function route(
  state: EmulatorState,
  method: string,
  url: URL,
  version: string,
  text: string,
): Route | undefined {
  const parts = url.pathname.split("/").filter(Boolean).slice(3).map(decodeURIComponent);
  const parse = (): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      throw new RequestError("JSON_PARSER_ERROR", "Unexpected character in the request body: not valid JSON");
    }
  };
  const object = (name: string | undefined) => {
    const definition = name ? state.store.definition(name) : undefined;
    if (!definition) throw new RequestError("NOT_FOUND", "The requested resource does not exist", 404);
    return definition;
  };
  const [first, second, third, fourth, ...rest] = parts;
  if (
    method === "PATCH" &&
    first === "composite" &&
    second === "sobjects" &&
    fourth !== undefined &&
    rest.length === 0
  ) {
    return {
      operation: "collections_upsert",
      run: () => {
        if (Number(version) < COLLECTIONS_UPSERT_VERSION)
          throw new RequestError("NOT_FOUND", NOT_FOUND[0]!.message, 404);
        const { results, tally } = upsertCollection(
          object(third),
          fourth,
          parse(),
          state.store,
          state.faults,
        );
        state.stats.countRecords(tally);
        return { status: 200, body: results };
      },
    };
  }
  if (method === "PATCH" && first === "sobjects" && fourth !== undefined && rest.length === 0) {
    return {
      operation: "upsert",
      run: () => {
        const answer = upsertSingle(object(second), third ?? "", fourth, parse(), state.store, state.faults);
        state.stats.countRecords(answer.tally);
        return answer;
      },
    };
  }
  if (method === "GET" && first === "sobjects" && third === "describe" && fourth === undefined) {
    const definition = object(second);
    return {
      operation: "describe",
      run: () => ({
        status: 200,
        body: describeObject(definition, state.store.keyPrefix(definition.name), version),
      }),
    };
  }
  if (method === "GET" && first === "query" && second === undefined) {
    return {
      operation: "query",
      run: () => {
        const soql = url.searchParams.get("q");
        if (!soql) throw new RequestError("MALFORMED_QUERY", "q parameter is required");
        return { status: 200, body: runSoql(soql, state.store, version) };
      },
    };
  }
  return undefined;
}

/** Serves `/services/data/...`: bearer auth, injected faults, the API limit, then the operation. */
export function handleDataRequest(
  state: EmulatorState,
  request: IncomingMessage,
  url: URL,
  text: string,
  response: ServerResponse,
): void {
  const method = request.method ?? "GET";
  if (url.pathname === "/services/data" || url.pathname === "/services/data/") {
    state.stats.countCall("versions");
    sendJson(response, 200, listVersions());
    return;
  }
  const token = request.headers.authorization?.match(/^(?:Bearer|OAuth) (.+)$/i)?.[1];
  if (!token || !state.sessions.isValid(token)) {
    sendJson(response, 401, [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }]);
    return;
  }
  const versionMatch = url.pathname.match(/^\/services\/data\/v(\d+\.\d)(\/|$)/);
  const version = versionMatch?.[1];
  const respond = (status: number, body: unknown) =>
    sendJson(response, status, body, { "sforce-limit-info": state.stats.limitInfo() });
  if (!version || Number(version) < OLDEST_VERSION || Number(version) > LATEST_VERSION) {
    respond(404, NOT_FOUND);
    return;
  }
  let matched: Route | undefined;
  try {
    matched = route(state, method, url, version, text);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    state.stats.countCall("other");
    respond(error.status, [{ message: error.message, errorCode: error.errorCode }]);
    return;
  }
  const isWithinLimit = state.stats.countCall(matched?.operation ?? "other");
  const fault = state.faults.takeCallFault();
  if (fault) {
    if (fault.status === 401) sendJson(response, 401, fault.body);
    else respond(fault.status, fault.body);
    return;
  }
  if (!isWithinLimit) {
    respond(403, [{ message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" }]);
    return;
  }
  if (!matched) {
    respond(404, NOT_FOUND);
    return;
  }
  try {
    const { status, body } = matched.run();
    respond(status, body);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    respond(error.status, [
      { message: error.message, errorCode: error.errorCode, ...(error.status === 400 ? { fields: [] } : {}) },
    ]);
  }
}

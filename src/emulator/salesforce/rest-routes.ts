import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { resolveBulkRoute } from "./bulk-ingest-routes.js";
import { hasWriteSubrequest, runComposite } from "./composite-request.js";
import { resolveRoute, type Route } from "./data-routes.js";
import { sendAnswer, sendJson, type Answer, type EmulatorState } from "./emulator-state.js";
import { RequestError } from "./validate-record.js";

const OLDEST_VERSION = 20;
const LATEST_VERSION = 64;
// A REST call's URI, and its URI plus headers, may be 16,384 bytes at most (Salesforce knowledge article 000386264).
const MAX_URI_AND_HEADERS_BYTES = 16_384;

const NOT_FOUND = [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }];

/** `GET /services/data/`: the versions the org speaks; this answer carries no Sforce-Limit-Info. */
function listVersions(): Array<{ label: string; url: string; version: string }> {
  const versions = [];
  for (let v = OLDEST_VERSION; v <= LATEST_VERSION; v++) {
    versions.push({ label: `v${v}.0`, url: `/services/data/v${v}.0`, version: `${v}.0` });
  }
  return versions;
}

/** 414 when the URI alone is too long, 431 when URI and headers together are. */
function checkRequestSize(request: IncomingMessage): number | undefined {
  const uriBytes = Buffer.byteLength(request.url ?? "");
  if (uriBytes > MAX_URI_AND_HEADERS_BYTES) return 414;
  const headerBytes = request.rawHeaders.reduce((sum, part) => sum + Buffer.byteLength(part) + 2, 0);
  return uriBytes + headerBytes > MAX_URI_AND_HEADERS_BYTES ? 431 : undefined;
}

function resolve(
  state: EmulatorState,
  request: IncomingMessage,
  url: URL,
  version: string,
  text: string,
): Route | undefined {
  const method = request.method ?? "GET";
  let parsed: { value: unknown } | undefined;
  const readJson = (): unknown => {
    if (parsed) return parsed.value;
    try {
      parsed = { value: JSON.parse(text) };
    } catch {
      throw new RequestError("JSON_PARSER_ERROR", "Unexpected character in the request body: not valid JSON");
    }
    return parsed.value;
  };
  const parts = url.pathname.split("/").filter(Boolean).slice(3);
  if (method === "POST" && parts.length === 1 && parts[0] === "composite") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      operation: "composite",
      isWrite: hasWriteSubrequest(body),
      run: () => runComposite(state, readJson()),
    };
  }
  return (
    resolveBulkRoute(state, method, url, version, text, readJson) ??
    resolveRoute(state, method, url, version, readJson, {
      source: method === "PATCH" && parts[0] === "composite" ? "collections_upsert" : "upsert",
      queryOptions: request.headers["sforce-query-options"],
    })
  );
}

/** Serves `/services/data/...`: size limits, bearer auth, injected faults, the API limit, then the operation. */
export async function handleDataRequest(
  state: EmulatorState,
  request: IncomingMessage,
  url: URL,
  text: string,
  response: ServerResponse,
): Promise<void> {
  const tooLarge = checkRequestSize(request);
  if (tooLarge) {
    response.writeHead(tooLarge, { "content-type": "text/plain" });
    response.end(tooLarge === 414 ? "URI Too Long" : "Request Header Fields Too Large");
    return;
  }
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
  const version = url.pathname.match(/^\/services\/data\/v(\d+\.\d)(\/|$)/)?.[1];
  const respond = (answer: Answer) =>
    sendAnswer(response, answer, { "sforce-limit-info": state.stats.limitInfo() });
  if (!version || Number(version) < OLDEST_VERSION || Number(version) > LATEST_VERSION) {
    respond({ status: 404, body: NOT_FOUND });
    return;
  }
  let matched: Route | undefined;
  try {
    matched = resolve(state, request, url, version, text);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    state.stats.countCall("other");
    respond({ status: error.status, body: [{ message: error.message, errorCode: error.errorCode }] });
    return;
  }
  const operation = matched?.operation ?? "other";
  const call = {
    operation: operation === "versions" ? ("other" as const) : operation,
    ...(matched?.object === undefined ? {} : { object: matched.object }),
    isWrite: matched?.isWrite === true && operation !== "composite",
  };
  const isWithinLimit = state.stats.countCall(operation);
  const delay = state.faults.takeDelay(call);
  if (delay.latencyMs > 0) await sleep(delay.latencyMs);
  if (delay.isHung) {
    state.gate.hang(response);
    return;
  }
  const fault = state.faults.takeCallFault(call);
  if (fault) {
    if (fault.status === 401) sendJson(response, 401, fault.body);
    else respond(fault);
    return;
  }
  if (!isWithinLimit) {
    respond({
      status: 403,
      body: [{ message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" }],
    });
    return;
  }
  if (!matched) {
    respond({ status: 404, body: NOT_FOUND });
    return;
  }
  let answer: Answer;
  try {
    answer = matched.run();
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    answer = {
      status: error.status,
      body: [
        {
          message: error.message,
          errorCode: error.errorCode,
          ...(error.status === 400 ? { fields: [] } : {}),
        },
      ],
    };
  }
  if (state.faults.takeHold({ ...call, isWrite: matched.isWrite })) state.gate.hold(() => respond(answer));
  else respond(answer);
}

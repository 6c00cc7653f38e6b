import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { SALESFORCE_OBJECTS, type ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { EmulatorCredentials } from "./emulator-credentials.js";
import { EmulatorStats, type EmulatorOperation, type EmulatorStatsSnapshot } from "./emulator-stats.js";
import { FaultInjector, parseFault, type EmulatorFault } from "./faults.js";
import { answerTokenRequest, SessionStore } from "./oauth-token-endpoint.js";
import { RecordStore, type StoredRecord } from "./record-store.js";
import { sendJson, type EmulatorState } from "./emulator-state.js";
import { handleDataRequest } from "./rest-routes.js";

/** Options of `startSalesforceEmulator`. */
export interface SalesforceEmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Objects and fields of the emulated org (default SALESFORCE_OBJECTS; a mapping override can change them). */
  objects?: readonly ObjectDefinition[];
  /** What the token endpoint accepts. */
  credentials: EmulatorCredentials;
  /** Daily API request limit reported in Sforce-Limit-Info; beyond it calls get 403 (default 100000). */
  apiLimit?: number;
  logger?: Logger;
  /** Time source for issued_at, JWT expiry and record timestamps (default the wall clock). */
  clock?: Clock;
}

/** A running emulator: its URL, its controls, and what landed in it. */
export interface SalesforceEmulator {
  /** Base URL, both login URL and instance URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
  /** Fault injection, the same as `POST/GET/DELETE /__emulator/faults`. */
  faults: {
    add(fault: EmulatorFault): void;
    clear(): void;
    list(): Array<EmulatorFault & { remaining: number }>;
  };
  /** Counters of token requests, API calls and records. */
  stats(): EmulatorStatsSnapshot;
  /** Records of one object as stored, oldest first. */
  records(objectName: string): StoredRecord[];
  /** Deletes every record and zeroes the stats (sessions and faults are kept). */
  reset(): void;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function applyFault(state: EmulatorState, fault: EmulatorFault): void {
  if (fault.type === "expire_sessions") state.sessions.expireAll();
  else state.faults.add(fault);
}

async function handleControl(
  state: EmulatorState,
  method: string,
  path: string,
  text: string,
  response: ServerResponse,
) {
  if (path === "/__emulator/faults" && method === "POST") {
    let fault: EmulatorFault;
    try {
      fault = parseFault(JSON.parse(text || "{}"));
    } catch (error) {
      sendJson(response, 400, { error: (error as Error).message });
      return;
    }
    applyFault(state, fault);
    sendJson(response, 201, { armed: state.faults.list() });
  } else if (path === "/__emulator/faults" && method === "DELETE") {
    state.faults.clear();
    response.writeHead(204).end();
  } else if (path === "/__emulator/faults" && method === "GET") {
    sendJson(response, 200, state.faults.list());
  } else if (path === "/__emulator/stats" && method === "GET") {
    sendJson(response, 200, state.stats.read());
  } else if (path === "/__emulator/records" && method === "DELETE") {
    state.store.clear();
    state.stats.reset();
    response.writeHead(204).end();
  } else if (path.startsWith("/__emulator/records/") && method === "GET") {
    const name = decodeURIComponent(path.slice("/__emulator/records/".length));
    if (!state.store.definition(name)) sendJson(response, 404, { error: `no object ${name}` });
    else sendJson(response, 200, state.store.list(name));
  } else {
    sendJson(response, 404, { error: "unknown emulator control" });
  }
}

function answerToken(
  state: EmulatorState,
  request: IncomingMessage,
  text: string,
  response: ServerResponse,
): void {
  const form = new URLSearchParams(text);
  // The client credentials flow may send the client id and secret as HTTP Basic instead.
  const basic = request.headers.authorization?.match(/^Basic (.+)$/i)?.[1];
  if (basic && !form.has("client_id")) {
    const [id = "", secret = ""] = Buffer.from(basic, "base64").toString().split(":");
    form.set("client_id", decodeURIComponent(id));
    form.set("client_secret", decodeURIComponent(secret));
  }
  // instance_url names the host the caller reached, so a client in another container can use it.
  const baseUrl = request.headers.host ? `http://${request.headers.host}` : state.baseUrl;
  const answer = answerTokenRequest(form, { ...state, baseUrl, nowMs: state.clock.now() });
  state.stats.countToken(answer.flow, answer.status !== 200);
  sendJson(response, answer.status, answer.body, {
    "cache-control": "no-cache,must-revalidate,max-age=0,no-store,private",
  });
}

/** Starts the emulated org on `host:port`; resolves once it listens. */
export async function startSalesforceEmulator(
  options: SalesforceEmulatorOptions,
): Promise<SalesforceEmulator> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const state: EmulatorState = {
    credentials: options.credentials,
    store: new RecordStore(options.objects ?? SALESFORCE_OBJECTS, clock),
    sessions: new SessionStore(),
    faults: new FaultInjector(),
    stats: new EmulatorStats(options.apiLimit ?? 100000),
    clock,
    baseUrl: "",
  };
  const server = createServer((request, response) => {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://emulator");
    readBody(request)
      .then(async (text) => {
        logger?.debug("salesforce emulator request", { method, path: url.pathname });
        if (url.pathname === "/services/oauth2/token" && method === "POST")
          answerToken(state, request, text, response);
        else if (url.pathname.startsWith("/__emulator/"))
          await handleControl(state, method, url.pathname, text, response);
        else if (url.pathname.startsWith("/services/data"))
          handleDataRequest(state, request, url, text, response);
        else
          sendJson(response, 404, [
            { errorCode: "NOT_FOUND", message: "The requested resource does not exist" },
          ]);
      })
      .catch((error: unknown) => {
        logger?.error("salesforce emulator failed", { error: (error as Error).message });
        if (!response.headersSent)
          sendJson(response, 500, [{ errorCode: "UNKNOWN_EXCEPTION", message: (error as Error).message }]);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const isAnyAddress = address.address === "0.0.0.0" || address.address === "::";
  const host = isAnyAddress
    ? "127.0.0.1"
    : address.family === "IPv6"
      ? `[${address.address}]`
      : address.address;
  state.baseUrl = `http://${host}:${address.port}`;
  // No "listening" line here: whoever starts the emulator announces it (the salesforce-emulator
  // command logs it, local mode lists it in its start-up notes), so it is said once.
  return {
    url: state.baseUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    faults: {
      add: (fault) => applyFault(state, parseFault(fault)),
      clear: () => state.faults.clear(),
      list: () => state.faults.list(),
    },
    stats: () => state.stats.read(),
    records: (objectName) => state.store.list(objectName),
    reset: () => {
      state.store.clear();
      state.stats.reset();
    },
  };
}

export type { EmulatorOperation };

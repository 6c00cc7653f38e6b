import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { SALESFORCE_OBJECTS, type ObjectDefinition } from "../../salesforce-schema/objects.js";
import type { EmulatorCredentials } from "./emulator-credentials.js";
import { BulkJobs } from "./bulk-ingest-jobs.js";
import { handleControl } from "./control-routes.js";
import { EmulatorStats, type EmulatorOperation, type EmulatorStatsSnapshot } from "./emulator-stats.js";
import { FaultInjector, type ArmedFault } from "./fault-injector.js";
import { parseFault, type EmulatorFault } from "./faults.js";
import { answerTokenRequest, SessionStore } from "./oauth-token-endpoint.js";
import { OrgSchema, type FieldAccess, type SchemaChange } from "./org-schema.js";
import { QueryCursors } from "./query-cursor.js";
import { RecordStore, type StoredRecord } from "./record-store.js";
import { ResponseGate } from "./response-gate.js";
import { sendJson, type EmulatorClock, type EmulatorState } from "./emulator-state.js";
import { handleDataRequest } from "./rest-routes.js";
import { WriteHistory, type WriteEntry } from "./write-history.js";

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
  /** Real-time milliseconds between a bulk job's UploadComplete and its processing (default 50). */
  bulkProcessingDelayMs?: number;
  logger?: Logger;
  /** Time source for issued_at, JWT expiry and record timestamps (default the wall clock). */
  clock?: EmulatorClock;
}

/** A running emulator: its URL, its controls, and what landed in it. */
export interface SalesforceEmulator {
  /** Base URL, both login URL and instance URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
  /** Fault injection, the same as `POST/GET/DELETE /__emulator/faults`. */
  faults: {
    /** Arms a fault (or, for expire_sessions, acts at once). */
    add(fault: EmulatorFault): void;
    /** Disarms every fault and closes the connections of hanging requests. */
    clear(): void;
    /** The armed faults with how often (`remaining`) or until when (`expiresAt`) each still fires. */
    list(): ArmedFault[];
  };
  /** Sends every answer held by hold_after_write; returns how many there were (`POST /__emulator/release`). */
  releaseHeld(): number;
  /** Resolves as soon as an answer is being held (at once when one already is). */
  waitForHeld(): Promise<void>;
  /** Run-time schema changes, the same as `POST /__emulator/schema`. */
  schema: {
    /** Deletes a field: writes naming it fail the whole call with INVALID_FIELD; describe and SOQL lose it. */
    dropField(objectName: string, fieldName: string): void;
    /** Field-level security: a write setting a field it may not create/update fails INVALID_FIELD_FOR_INSERT_UPDATE. */
    setFieldAccess(objectName: string, fieldName: string, access: Partial<FieldAccess>): void;
    /** Deletes an object: REST calls naming it answer NOT_FOUND, SOQL INVALID_TYPE. */
    dropObject(objectName: string): void;
    /** Restores the schema the emulator started with. */
    reset(): void;
    /** The changes applied since start or the last reset. */
    changes(): SchemaChange[];
  };
  /** Sets the org's daily API usage and optionally its limit (`POST /__emulator/api-usage`). */
  setApiUsage(used: number, limit?: number): void;
  /** Sets the real-time delay between a bulk job's UploadComplete and its processing. */
  setBulkProcessingDelay(ms: number): void;
  /** Counters of token requests, API calls (composite subrequests apart) and records. */
  stats(): EmulatorStatsSnapshot;
  /** Records of one object as stored, oldest first. */
  records(objectName: string): StoredRecord[];
  /** Every record write (collections, single upsert, composite subrequest, bulk row), oldest first; of one object when named. */
  history(objectName?: string): WriteEntry[];
  /** Deletes every record, the history, bulk jobs and query locators, zeroes stats and API usage, restores the schema (sessions and faults are kept). */
  reset(): void;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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
  const store = new RecordStore(
    new OrgSchema(options.objects ?? SALESFORCE_OBJECTS),
    clock,
    new WriteHistory(),
  );
  const faults = new FaultInjector(clock);
  const stats = new EmulatorStats(options.apiLimit ?? 100000);
  const state: EmulatorState = {
    credentials: options.credentials,
    store,
    sessions: new SessionStore(),
    faults,
    stats,
    gate: new ResponseGate(),
    cursors: new QueryCursors(),
    bulk: new BulkJobs({ store, faults, stats, clock }, options.bulkProcessingDelayMs ?? 50),
    clock,
    baseUrl: "",
  };
  faults.onClear(() => state.gate.releaseHung());
  const controls = {
    addFault: (fault: EmulatorFault) => {
      if (fault.type === "expire_sessions") state.sessions.expireAll();
      else state.faults.add(fault);
    },
    reset: () => {
      state.bulk.clear();
      state.store.clear();
      state.store.history.clear();
      state.store.schema.apply({ action: "reset" });
      state.cursors.clear();
      state.stats.reset();
    },
  };
  // Node's default 16 KiB header limit would answer 431 itself; the emulator applies Salesforce's limits.
  const server = createServer({ maxHeaderSize: 64 * 1024 }, (request, response) => {
    const method = request.method ?? "GET";
    const url = new URL(request.url ?? "/", "http://emulator");
    readBody(request)
      .then(async (text) => {
        logger?.debug("salesforce emulator request", { method, path: url.pathname });
        if (url.pathname === "/services/oauth2/token" && method === "POST")
          answerToken(state, request, text, response);
        else if (url.pathname === "/__emulator" || url.pathname.startsWith("/__emulator/"))
          handleControl(state, controls, method, url, text, response);
        else if (url.pathname.startsWith("/services/data"))
          await handleDataRequest(state, request, url, text, response);
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
        state.bulk.clear();
        state.gate.dropAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    faults: {
      add: (fault) => controls.addFault(parseFault(fault)),
      clear: () => state.faults.clear(),
      list: () => state.faults.list(),
    },
    releaseHeld: () => state.gate.releaseHeld(),
    waitForHeld: () => state.gate.waitForHeld(),
    schema: {
      dropField: (object, field) => store.schema.apply({ action: "drop_field", object, field }),
      setFieldAccess: (object, field, access) =>
        store.schema.apply({ action: "set_field_access", object, field, ...access }),
      dropObject: (object) => store.schema.apply({ action: "drop_object", object }),
      reset: () => store.schema.apply({ action: "reset" }),
      changes: () => store.schema.listChanges(),
    },
    setApiUsage: (used, limit) => state.stats.setApiUsage(used, limit),
    setBulkProcessingDelay: (ms) => {
      state.bulk.processingDelayMs = ms;
    },
    stats: () => state.stats.read(),
    records: (objectName) => state.store.list(objectName),
    history: (objectName) => state.store.history.list(objectName),
    reset: controls.reset,
  };
}

export type { EmulatorOperation };

import type { ServerResponse } from "node:http";
import { sendJson, type EmulatorState } from "./emulator-state.js";
import { FAULT_TYPES, parseFault, type EmulatorFault } from "./faults.js";
import { parseSchemaChange } from "./org-schema.js";

/** The control endpoints, as `GET /__emulator` lists them. */
export const CONTROL_ENDPOINTS: Record<string, string> = {
  "GET /__emulator": "this list",
  "POST /__emulator/faults": `arm a fault (JSON body; type one of ${FAULT_TYPES.join(", ")})`,
  "GET /__emulator/faults": "the armed faults, with how often (or until when) each still fires",
  "DELETE /__emulator/faults": "disarm every fault; hanging requests are closed",
  "POST /__emulator/release": "send every answer held by hold_after_write",
  "GET /__emulator/held[?wait=true]": "how many answers are held; with wait=true, answers once one is held",
  "GET /__emulator/stats":
    "token requests, API calls by operation, composite subrequests, records, API usage",
  "POST /__emulator/api-usage": "set the daily API usage: {used, limit?}",
  "GET /__emulator/history[/<Object>]":
    "every record write (object, externalId, recordId, outcome, fields, source, at)",
  "GET /__emulator/records/<Object>": "the records of one object as stored",
  "DELETE /__emulator/records":
    "reset: records, history, stats, API usage, schema, bulk jobs (faults and sessions stay)",
  "GET /__emulator/schema": "the schema changes applied",
  "POST /__emulator/schema":
    "change the schema: {action: drop_field|set_field_access|drop_object|reset, object, field, createable, updateable}",
  "POST /__emulator/bulk":
    "set {processingDelayMs}: real time between UploadComplete and a bulk job's processing",
};

/** Runs every control action that changes state: the emulator API and the HTTP endpoints share them. */
export interface EmulatorControls {
  addFault(fault: EmulatorFault): void;
  reset(): void;
}

function readJson(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text || "{}");
  return (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
}

/** Serves `/__emulator...`: faults, held answers, stats, history, records, schema, API usage, bulk timing. */
export function handleControl(
  state: EmulatorState,
  controls: EmulatorControls,
  method: string,
  url: URL,
  text: string,
  response: ServerResponse,
): void {
  const path = url.pathname;
  const route = `${method} ${path.replace(/\/+$/, "")}`;
  const objectIn = (prefix: string) => decodeURIComponent(path.slice(prefix.length));
  try {
    if (route === "GET /__emulator") sendJson(response, 200, { endpoints: CONTROL_ENDPOINTS });
    else if (route === "POST /__emulator/faults") {
      controls.addFault(parseFault(readJson(text)));
      sendJson(response, 201, { armed: state.faults.list() });
    } else if (route === "DELETE /__emulator/faults") {
      state.faults.clear();
      response.writeHead(204).end();
    } else if (route === "GET /__emulator/faults") sendJson(response, 200, state.faults.list());
    else if (route === "POST /__emulator/release")
      sendJson(response, 200, { released: state.gate.releaseHeld() });
    else if (route === "GET /__emulator/held" && url.searchParams.get("wait") === "true")
      void state.gate.waitForHeld().then(() => sendJson(response, 200, { held: state.gate.heldCount() }));
    else if (route === "GET /__emulator/held") sendJson(response, 200, { held: state.gate.heldCount() });
    else if (route === "GET /__emulator/stats") sendJson(response, 200, state.stats.read());
    else if (route === "POST /__emulator/api-usage") {
      const { used, limit } = readJson(text);
      if (!Number.isInteger(used) || (limit !== undefined && !Number.isInteger(limit)))
        throw new Error("used (and limit, when given) must be integers");
      state.stats.setApiUsage(used as number, limit as number | undefined);
      sendJson(response, 200, state.stats.read().apiUsage);
    } else if (route === "GET /__emulator/history") sendJson(response, 200, state.store.history.list());
    else if (method === "GET" && path.startsWith("/__emulator/history/"))
      sendJson(response, 200, state.store.history.list(objectIn("/__emulator/history/")));
    else if (route === "DELETE /__emulator/records") {
      controls.reset();
      response.writeHead(204).end();
    } else if (method === "GET" && path.startsWith("/__emulator/records/")) {
      const name = objectIn("/__emulator/records/");
      if (!state.store.definition(name)) sendJson(response, 404, { error: `no object ${name}` });
      else sendJson(response, 200, state.store.list(name));
    } else if (route === "GET /__emulator/schema") sendJson(response, 200, state.store.schema.listChanges());
    else if (route === "POST /__emulator/schema") {
      state.store.schema.apply(parseSchemaChange(readJson(text)));
      sendJson(response, 200, state.store.schema.listChanges());
    } else if (route === "POST /__emulator/bulk") {
      const delay = Number(readJson(text).processingDelayMs);
      if (!Number.isInteger(delay) || delay < 0) throw new Error("processingDelayMs must be an integer >= 0");
      state.bulk.processingDelayMs = delay;
      sendJson(response, 200, { processingDelayMs: delay });
    } else sendJson(response, 404, { error: "unknown emulator control; GET /__emulator lists them" });
  } catch (error) {
    sendJson(response, 400, { error: (error as Error).message });
  }
}

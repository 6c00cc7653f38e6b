import type { ServerResponse } from "node:http";
import type { Clock } from "../../shared/clock.js";
import type { BulkJobs } from "./bulk-ingest-jobs.js";
import type { EmulatorCredentials } from "./emulator-credentials.js";
import type { EmulatorStats } from "./emulator-stats.js";
import type { FaultInjector } from "./fault-injector.js";
import type { SessionStore } from "./oauth-token-endpoint.js";
import type { QueryCursors } from "./query-cursor.js";
import type { RecordStore } from "./record-store.js";
import type { ResponseGate } from "./response-gate.js";

/** What request handlers share. */
export interface EmulatorState {
  credentials: EmulatorCredentials;
  store: RecordStore;
  sessions: SessionStore;
  faults: FaultInjector;
  stats: EmulatorStats;
  gate: ResponseGate;
  cursors: QueryCursors;
  bulk: BulkJobs;
  clock: EmulatorClock;
  baseUrl: string;
}

/** An answer to a REST call: JSON unless `csv` is set, plus extra headers. */
export interface Answer {
  status: number;
  body: unknown;
  /** Send `body` (a string) as `text/csv`. */
  isCsv?: boolean;
  headers?: Record<string, string>;
}

/** Sends a JSON answer with Salesforce's content type and any extra headers. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json;charset=UTF-8", ...headers });
  response.end(text);
}

/** Sends an `Answer` (JSON, CSV, or an empty body for 201/204 without one). */
export function sendAnswer(
  response: ServerResponse,
  answer: Answer,
  headers: Record<string, string> = {},
): void {
  if (response.destroyed || response.writableEnded) return;
  if (answer.isCsv) {
    response.writeHead(answer.status, { "content-type": "text/csv", ...headers, ...answer.headers });
    response.end(String(answer.body));
  } else if (answer.body === undefined) {
    response.writeHead(answer.status, { ...headers, ...answer.headers });
    response.end();
  } else {
    sendJson(response, answer.status, answer.body, { ...headers, ...answer.headers });
  }
}

/** The emulator reads only the time from its clock (its delays are real time), so any `{ now() }` will do. */
export type EmulatorClock = Pick<Clock, "now">;

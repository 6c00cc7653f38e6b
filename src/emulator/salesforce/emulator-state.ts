import type { ServerResponse } from "node:http";
import type { Clock } from "../../shared/clock.js";
import type { EmulatorCredentials } from "./emulator-credentials.js";
import type { EmulatorStats } from "./emulator-stats.js";
import type { FaultInjector } from "./faults.js";
import type { SessionStore } from "./oauth-token-endpoint.js";
import type { RecordStore } from "./record-store.js";

/** What request handlers share. */
export interface EmulatorState {
  credentials: EmulatorCredentials;
  store: RecordStore;
  sessions: SessionStore;
  faults: FaultInjector;
  stats: EmulatorStats;
  clock: Clock;
  baseUrl: string;
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

import type { Route } from "./data-routes.js";
import type { EmulatorState } from "./emulator-state.js";

const RESULT_KINDS = ["successfulResults", "failedResults", "unprocessedrecords"] as const;

/** Resolves `/jobs/ingest[/{id}[/batches|/successfulResults|/failedResults|/unprocessedrecords]]`; each is one API call. */
export function resolveBulkRoute(
  state: EmulatorState,
  method: string,
  url: URL,
  version: string,
  text: string,
  readJson: () => unknown,
): Route | undefined {
  const [first, second, id, part, ...rest] = url.pathname
    .split("/")
    .filter(Boolean)
    .slice(3)
    .map(decodeURIComponent);
  if (first !== "jobs" || second !== "ingest" || rest.length > 0) return undefined;
  const route = (isWrite: boolean, run: Route["run"]): Route => ({ operation: "bulk", isWrite, run });
  if (id === undefined && method === "POST")
    return route(true, () => ({ status: 200, body: state.bulk.create(readJson(), version) }));
  if (id === undefined) return undefined;
  if (part === undefined && method === "GET")
    return route(false, () => ({ status: 200, body: state.bulk.info(id) }));
  if (part === undefined && method === "PATCH")
    return route(true, () => ({ status: 200, body: state.bulk.setState(id, readJson()) }));
  if (part === undefined && method === "DELETE")
    return route(false, () => {
      state.bulk.delete(id);
      return { status: 204, body: undefined };
    });
  if (part === "batches" && method === "PUT")
    return route(true, () => {
      state.bulk.upload(id, text);
      return { status: 201, body: undefined };
    });
  const kind = RESULT_KINDS.find((k) => k === part);
  if (kind && method === "GET")
    return route(false, () => ({ status: 200, body: state.bulk.results(id, kind), isCsv: true }));
  return undefined;
}

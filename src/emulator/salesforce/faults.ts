/** An operation as fault filters and the stats name it. */
export type FaultOperation =
  "collections_upsert" | "upsert" | "composite" | "query" | "describe" | "limits" | "bulk";

const OPERATIONS: readonly FaultOperation[] = [
  "collections_upsert",
  "upsert",
  "composite",
  "query",
  "describe",
  "limits",
  "bulk",
];

/** Which calls a call fault applies to (every call when both are absent). */
export interface FaultFilter {
  /** Only calls (or composite subrequests) of this operation. */
  operation?: FaultOperation;
  /** Only calls (or composite subrequests) on this object's API name (case-insensitive). */
  object?: string;
}

/** How long a call fault stays armed: `count` matching calls (default 1), or `forMs` of the emulator's clock. */
export interface FaultDuration {
  /** Fires this many times (default 1; unlimited within `forMs` when only `forMs` is given). */
  count?: number;
  /** Fires on every matching call for this many milliseconds of the emulator's clock after it is armed. */
  forMs?: number;
}

/** A failure the emulator can be told to produce, through `POST /__emulator/faults` or `faults.add()`. */
export type EmulatorFault =
  /** Ends every issued session now: the next data call with an old token answers 401. */
  | { type: "expire_sessions" }
  /** Matching data calls answer 401 INVALID_SESSION_ID whatever the token. */
  | ({ type: "invalid_session" } & FaultFilter & FaultDuration)
  /** Matching calls answer `status` with an optional errorCode/message (a composite subrequest: that subrequest only). */
  | ({ type: "http_error"; status: number; errorCode?: string; message?: string } & FaultFilter &
      FaultDuration)
  /** Matching calls answer 403 REQUEST_LIMIT_EXCEEDED: the daily allowance (default) or too many long requests. */
  | ({ type: "request_limit"; limit?: "TotalRequests" | "ConcurrentPerOrgLongTxn" } & FaultFilter &
      FaultDuration)
  /** Writes (and write subrequests, bulk calls) answer INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE (HTTP `status`, default 503). */
  | ({ type: "maintenance"; status?: number } & FaultFilter & FaultDuration)
  /** Matching calls wait `ms` (real time) before they are processed. */
  | ({ type: "latency"; ms: number } & FaultFilter & FaultDuration)
  /** Matching calls are never processed nor answered; their connections close when the fault is cleared or the server stops. */
  | ({ type: "hang" } & FaultFilter & FaultDuration)
  /** Matching writes are applied, then their answer is held until `releaseHeld()` / `POST /__emulator/release`. */
  | ({ type: "hold_after_write" } & FaultFilter & FaultDuration)
  /** The next `count` records written (default 1; of `object` only when given) fail with UNABLE_TO_LOCK_ROW. */
  | { type: "lock_row"; count?: number; object?: string }
  /** Records with this External ID fail with `statusCode` (every time, or the next `count` times). */
  | {
      type: "record_error";
      externalId: string;
      statusCode: string;
      message?: string;
      count?: number;
      object?: string;
    }
  /**
   * A collections request (or subrequest) carrying a record with this External ID is refused as a
   * whole (`status`, default 400; `errorCode`, default JSON_PARSER_ERROR), as one malformed record
   * makes Salesforce refuse a whole request. Every time, or the next `count` times.
   */
  | {
      type: "poison_record";
      externalId: string;
      status?: number;
      errorCode?: string;
      message?: string;
      count?: number;
    }
  /** The next bulk ingest job (of `object` when given) stops after `afterRows` rows: the job ends `state`, the rest unprocessed. */
  | { type: "bulk_unprocessed"; afterRows: number; state?: "Failed" | "Aborted"; object?: string };

/** The type names `parseFault` accepts. */
export const FAULT_TYPES = [
  "expire_sessions",
  "invalid_session",
  "http_error",
  "request_limit",
  "maintenance",
  "latency",
  "hang",
  "hold_after_write",
  "lock_row",
  "record_error",
  "poison_record",
  "bulk_unprocessed",
] as const;

const positiveInteger = (value: unknown, name: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer`);
  return number;
};

const optional = <T>(key: string, value: T | undefined): Record<string, T> =>
  value === undefined ? {} : { [key]: value };

function readFilterAndDuration(fault: Record<string, unknown>): FaultFilter & FaultDuration {
  if (fault.operation !== undefined && !OPERATIONS.includes(fault.operation as FaultOperation)) {
    throw new Error(`operation must be one of ${OPERATIONS.join(", ")}`);
  }
  if (fault.object !== undefined && typeof fault.object !== "string")
    throw new Error("object must be a string");
  return {
    ...optional("operation", fault.operation as FaultOperation | undefined),
    ...optional("object", fault.object as string | undefined),
    ...optional("count", fault.count === undefined ? undefined : positiveInteger(fault.count, "count")),
    ...optional("forMs", fault.forMs === undefined ? undefined : positiveInteger(fault.forMs, "forMs")),
  };
}

function readStatus(value: unknown, fallback?: number): number {
  const status = Number(value ?? fallback);
  if (!Number.isInteger(status) || status < 400 || status > 599) throw new Error("status must be 400-599");
  return status;
}

/** Reads an untrusted fault description; throws with a readable message when it is not one. */
export function parseFault(input: unknown): EmulatorFault {
  const fault = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const text = (key: string) => (typeof fault[key] === "string" ? (fault[key] as string) : undefined);
  const count = fault.count === undefined ? {} : { count: positiveInteger(fault.count, "count") };
  switch (fault.type) {
    case "expire_sessions":
      return { type: "expire_sessions" };
    case "invalid_session":
    case "hang":
    case "hold_after_write":
      return { type: fault.type, ...readFilterAndDuration(fault) };
    case "http_error":
      return {
        type: "http_error",
        status: readStatus(fault.status),
        ...readFilterAndDuration(fault),
        ...optional("errorCode", text("errorCode")),
        ...optional("message", text("message")),
      };
    case "request_limit": {
      const limit = fault.limit ?? "TotalRequests";
      if (limit !== "TotalRequests" && limit !== "ConcurrentPerOrgLongTxn")
        throw new Error("limit must be TotalRequests or ConcurrentPerOrgLongTxn");
      return { type: "request_limit", limit, ...readFilterAndDuration(fault) };
    }
    case "maintenance":
      return { type: "maintenance", status: readStatus(fault.status, 503), ...readFilterAndDuration(fault) };
    case "latency":
      return { type: "latency", ms: positiveInteger(fault.ms, "ms"), ...readFilterAndDuration(fault) };
    case "lock_row":
      return { type: "lock_row", ...count, ...optional("object", text("object")) };
    case "record_error":
      if (typeof fault.externalId !== "string" || typeof fault.statusCode !== "string") {
        throw new Error("record_error needs externalId and statusCode");
      }
      return {
        type: "record_error",
        externalId: fault.externalId,
        statusCode: fault.statusCode,
        ...count,
        ...optional("message", text("message")),
        ...optional("object", text("object")),
      };
    case "poison_record": {
      if (typeof fault.externalId !== "string") throw new Error("poison_record needs externalId");
      const status = fault.status === undefined ? 400 : Number(fault.status);
      if (!Number.isInteger(status) || status < 400 || status > 499)
        throw new Error("poison_record needs a status 400-499");
      return {
        type: "poison_record",
        externalId: fault.externalId,
        status,
        ...count,
        ...optional("errorCode", text("errorCode")),
        ...optional("message", text("message")),
      };
    }
    case "bulk_unprocessed": {
      const afterRows = Number(fault.afterRows);
      if (!Number.isInteger(afterRows) || afterRows < 0) throw new Error("afterRows must be an integer >= 0");
      const state = fault.state ?? "Failed";
      if (state !== "Failed" && state !== "Aborted") throw new Error("state must be Failed or Aborted");
      return { type: "bulk_unprocessed", afterRows, state, ...optional("object", text("object")) };
    }
    default:
      throw new Error(`type must be one of ${FAULT_TYPES.join(", ")}`);
  }
}

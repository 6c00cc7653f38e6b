import type { EmulatorClock } from "./emulator-state.js";
import type { EmulatorFault, FaultOperation } from "./faults.js";

/** A call (or a composite subrequest) as faults see it. */
export interface FaultedCall {
  operation: FaultOperation | "other";
  /** The object the call names, when it names one. */
  object?: string;
  /** True for record writes (upserts, bulk calls), the calls maintenance refuses and hold_after_write holds. */
  isWrite: boolean;
  /** True inside a composite request: only faults that name an operation or object (and maintenance) reach it. */
  isSubrequest?: boolean;
}

/** A whole-call failure to answer instead of doing the work. */
export interface CallFault {
  status: number;
  body: Array<{ message: string; errorCode: string }>;
}

/** A per-record failure. */
export interface RecordFault {
  statusCode: string;
  message: string;
}

/** An armed fault as `list()` shows it: how often it will still fire (null: no count) and until when (`forMs`). */
export type ArmedFault = EmulatorFault & { remaining: number | null; expiresAt?: string };

type Armed = EmulatorFault & { remaining: number; expiresAtMs?: number };

const MAINTENANCE_MESSAGE =
  "Updates can't be made during maintenance. Try again when maintenance is complete.";

function callFault(fault: Armed): CallFault | undefined {
  switch (fault.type) {
    case "invalid_session":
      return {
        status: 401,
        body: [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }],
      };
    case "request_limit":
      return {
        status: 403,
        body: [
          {
            message: `${fault.limit ?? "TotalRequests"} Limit exceeded.`,
            errorCode: "REQUEST_LIMIT_EXCEEDED",
          },
        ],
      };
    case "maintenance":
      return {
        status: fault.status ?? 503,
        body: [
          { message: MAINTENANCE_MESSAGE, errorCode: "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE" },
        ],
      };
    case "http_error":
      return {
        status: fault.status,
        body: [
          {
            message:
              fault.message ?? (fault.status >= 500 ? "Service temporarily unavailable" : "Bad request"),
            errorCode: fault.errorCode ?? (fault.status >= 500 ? "SERVER_UNAVAILABLE" : "BAD_REQUEST"),
          },
        ],
      };
    default:
      return undefined;
  }
}

/** The faults waiting to fire, each for `count` matching calls or for `forMs` of the emulator's clock. */
export class FaultInjector {
  private armed: Armed[] = [];
  private readonly clearListeners: Array<() => void> = [];

  constructor(private readonly clock: EmulatorClock) {}

  /** Arms a fault (expire_sessions is an action, handled by the emulator, not stored). */
  add(fault: EmulatorFault): void {
    if (fault.type === "expire_sessions") return;
    const forMs = "forMs" in fault ? fault.forMs : undefined;
    const isForever =
      (fault.type === "record_error" || fault.type === "poison_record") && fault.count === undefined;
    const count = "count" in fault ? fault.count : undefined;
    this.armed.push({
      ...fault,
      remaining: count ?? (isForever || forMs !== undefined ? Number.POSITIVE_INFINITY : 1),
      ...(forMs === undefined ? {} : { expiresAtMs: this.clock.now() + forMs }),
    });
  }

  /** Disarms every fault and lets go of hung calls. */
  clear(): void {
    this.armed = [];
    for (const listener of this.clearListeners) listener();
  }

  /** Calls `listener` whenever the faults are cleared. */
  onClear(listener: () => void): void {
    this.clearListeners.push(listener);
  }

  /** The faults still armed, with how many times each will still fire (and until when, for `forMs`). */
  list(): ArmedFault[] {
    this.dropExpired();
    return this.armed.map(({ expiresAtMs, remaining, ...fault }) => ({
      ...fault,
      remaining: Number.isFinite(remaining) ? remaining : null,
      ...(expiresAtMs === undefined ? {} : { expiresAt: new Date(expiresAtMs).toISOString() }),
    }));
  }

  /** Consumes the first matching error fault (401, 403, maintenance, http_error), if any. */
  takeCallFault(call: FaultedCall): CallFault | undefined {
    const fault = this.take(
      (f) =>
        (f.type === "invalid_session" ||
          f.type === "http_error" ||
          f.type === "request_limit" ||
          (f.type === "maintenance" && call.isWrite)) &&
        this.matches(f, call),
    );
    return fault ? callFault(fault) : undefined;
  }

  /** Consumes latency and hang faults for a whole request: how long to wait, and whether to answer at all. */
  takeDelay(call: FaultedCall): { latencyMs: number; isHung: boolean } {
    let latencyMs = 0;
    // Each armed latency fault delays a request once: one armed for a duration (no count) would
    // otherwise match again and again within the same request.
    const applied = new Set<Armed>();
    for (;;) {
      const latency = this.take(
        (f) => f.type === "latency" && !applied.has(f) && !call.isSubrequest && this.matches(f, call),
      );
      if (latency?.type !== "latency") break;
      applied.add(latency);
      latencyMs += latency.ms;
    }
    const hang = this.take((f) => f.type === "hang" && !call.isSubrequest && this.matches(f, call));
    return { latencyMs, isHung: hang !== undefined };
  }

  /** Consumes a hold_after_write fault for a write request; true when its answer must be held. */
  takeHold(call: FaultedCall): boolean {
    return (
      this.take(
        (f) => f.type === "hold_after_write" && call.isWrite && !call.isSubrequest && this.matches(f, call),
      ) !== undefined
    );
  }

  /** Consumes a per-record fault for the record of `object` with External ID `externalId`, if any. */
  takeRecordFault(object: string, externalId: string, recordId: string | undefined): RecordFault | undefined {
    const isObject = (name: string | undefined) =>
      name === undefined || name.toLowerCase() === object.toLowerCase();
    const fault = this.take(
      (f) =>
        (f.type === "record_error" && f.externalId === externalId && isObject(f.object)) ||
        (f.type === "lock_row" && isObject(f.object)),
    );
    if (fault?.type === "record_error") {
      return { statusCode: fault.statusCode, message: fault.message ?? `injected ${fault.statusCode}` };
    }
    if (fault?.type === "lock_row") {
      return {
        statusCode: "UNABLE_TO_LOCK_ROW",
        message: `unable to obtain exclusive access to this record or 1 records: ${recordId ?? externalId}`,
      };
    }
    return undefined;
  }

  /** Consumes a poison_record fault for a request carrying one of `externalIds`: the whole request's error. */
  takePoison(
    externalIds: readonly (string | undefined)[],
  ): { status: number; errorCode: string; message: string } | undefined {
    const fault = this.take((f) => f.type === "poison_record" && externalIds.includes(f.externalId));
    if (fault?.type !== "poison_record") return undefined;
    return {
      status: fault.status ?? 400,
      errorCode: fault.errorCode ?? "JSON_PARSER_ERROR",
      message: fault.message ?? `Cannot deserialize the record with External ID ${fault.externalId}`,
    };
  }

  /** Consumes a bulk_unprocessed fault for a job on `object`: after how many rows it stops, and how. */
  takeBulkStop(object: string): { afterRows: number; state: "Failed" | "Aborted" } | undefined {
    const fault = this.take(
      (f) =>
        f.type === "bulk_unprocessed" &&
        (f.object === undefined || f.object.toLowerCase() === object.toLowerCase()),
    );
    return fault?.type === "bulk_unprocessed"
      ? { afterRows: fault.afterRows, state: fault.state ?? "Failed" }
      : undefined;
  }

  private matches(fault: Armed, call: FaultedCall): boolean {
    const operation = "operation" in fault ? fault.operation : undefined;
    const object = "object" in fault ? fault.object : undefined;
    if (operation !== undefined && operation !== call.operation) return false;
    if (object !== undefined && object.toLowerCase() !== call.object?.toLowerCase()) return false;
    // A fault that names neither fires on the whole request, before any subrequest runs.
    return (
      !call.isSubrequest || fault.type === "maintenance" || operation !== undefined || object !== undefined
    );
  }

  private dropExpired(): void {
    const now = this.clock.now();
    this.armed = this.armed.filter((f) => f.expiresAtMs === undefined || f.expiresAtMs > now);
  }

  private take(matches: (fault: Armed) => boolean): Armed | undefined {
    this.dropExpired();
    const fault = this.armed.find(matches);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }
}

/** A failure the emulator can be told to produce, through `POST /__emulator/faults` or `faults.add()`. */
export type EmulatorFault =
  /** Ends every issued session now: the next data call with an old token answers 401. */
  | { type: "expire_sessions" }
  /** The next `count` data calls (default 1) answer 401 INVALID_SESSION_ID whatever the token. */
  | { type: "invalid_session"; count?: number }
  /** The next `count` data calls (default 1) answer `status` with an optional errorCode/message. */
  | { type: "http_error"; status: number; count?: number; errorCode?: string; message?: string }
  /** The next `count` data calls (default 1) answer 403 REQUEST_LIMIT_EXCEEDED. */
  | { type: "request_limit"; count?: number }
  /** The next `count` records written (default 1) fail with UNABLE_TO_LOCK_ROW. */
  | { type: "lock_row"; count?: number }
  /** Records with this External ID fail with `statusCode` (every time, or the next `count` times). */
  | { type: "record_error"; externalId: string; statusCode: string; message?: string; count?: number };

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

type Armed = EmulatorFault & { remaining: number };

/** Reads an untrusted fault description; throws with a readable message when it is not one. */
export function parseFault(input: unknown): EmulatorFault {
  const fault = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const count = fault.count === undefined ? {} : { count: Number(fault.count) };
  if (count.count !== undefined && (!Number.isInteger(count.count) || count.count < 1)) {
    throw new Error("count must be a positive integer");
  }
  switch (fault.type) {
    case "expire_sessions":
      return { type: "expire_sessions" };
    case "invalid_session":
    case "request_limit":
    case "lock_row":
      return { type: fault.type, ...count };
    case "http_error": {
      const status = Number(fault.status);
      if (!Number.isInteger(status) || status < 400 || status > 599)
        throw new Error("http_error needs a status 400-599");
      return {
        type: "http_error",
        status,
        ...count,
        ...(typeof fault.errorCode === "string" ? { errorCode: fault.errorCode } : {}),
        ...(typeof fault.message === "string" ? { message: fault.message } : {}),
      };
    }
    case "record_error":
      if (typeof fault.externalId !== "string" || typeof fault.statusCode !== "string") {
        throw new Error("record_error needs externalId and statusCode");
      }
      return {
        type: "record_error",
        externalId: fault.externalId,
        statusCode: fault.statusCode,
        ...count,
        ...(typeof fault.message === "string" ? { message: fault.message } : {}),
      };
    default:
      throw new Error(
        "type must be one of expire_sessions, invalid_session, http_error, request_limit, lock_row, record_error",
      );
  }
}

/** The faults waiting to fire; each fires `count` times (record_error without count: forever). */
export class FaultInjector {
  private armed: Armed[] = [];

  /** Arms a fault (expire_sessions is an action, handled by the emulator, not stored). */
  add(fault: EmulatorFault): void {
    if (fault.type === "expire_sessions") return;
    const forever = fault.type === "record_error" && fault.count === undefined;
    this.armed.push({ ...fault, remaining: forever ? Number.POSITIVE_INFINITY : (fault.count ?? 1) });
  }

  /** Disarms every fault. */
  clear(): void {
    this.armed = [];
  }

  /** The faults still armed, with how many times each will still fire. */
  list(): Array<EmulatorFault & { remaining: number }> {
    return this.armed.map((fault) => ({ ...fault }));
  }

  /** Consumes the first armed whole-call fault, if any. */
  takeCallFault(): CallFault | undefined {
    const fault = this.take(
      (f) => f.type === "http_error" || f.type === "request_limit" || f.type === "invalid_session",
    );
    if (!fault) return undefined;
    if (fault.type === "invalid_session") {
      return {
        status: 401,
        body: [{ message: "Session expired or invalid", errorCode: "INVALID_SESSION_ID" }],
      };
    }
    if (fault.type === "request_limit") {
      return {
        status: 403,
        body: [{ message: "TotalRequests Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" }],
      };
    }
    if (fault.type === "http_error") {
      return {
        status: fault.status,
        body: [
          {
            message: fault.message ?? "Service temporarily unavailable",
            errorCode: fault.errorCode ?? (fault.status >= 500 ? "SERVER_UNAVAILABLE" : "BAD_REQUEST"),
          },
        ],
      };
    }
    return undefined;
  }

  /** Consumes a per-record fault for the record with External ID `externalId`, if any. */
  takeRecordFault(externalId: string, recordId: string | undefined): RecordFault | undefined {
    const fault = this.take(
      (f) => (f.type === "record_error" && f.externalId === externalId) || f.type === "lock_row",
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

  private take(matches: (fault: Armed) => boolean): Armed | undefined {
    const fault = this.armed.find(matches);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }
}

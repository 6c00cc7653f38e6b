import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../../shared/logger.js";
import { createAccessLogWriter, type AccessLogWriter } from "./access-log.js";

/** Per-request state the webhook middlewares share. */
export interface RequestState {
  correlationId: string;
  /** A logger carrying `correlationId` (made on first use: most requests log nothing else). */
  log: Logger;
  /** Fields added to the one access-log line written when the request ends. */
  logFields: Record<string, unknown>;
}

const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/** The correlation id of a request: its `X-Request-Id` when that is a sane token, else a new one. */
export function correlationIdOf(given: string | string[] | undefined): string {
  return typeof given === "string" && ACCEPTABLE_ID.test(given) ? given : randomUUID();
}

/**
 * Takes the correlation id from `X-Request-Id` (when it is a sane token) or makes one, echoes it
 * back, and writes one JSON log line per request with its outcome (`info`; `debug` for health and
 * metrics).
 */
export function correlationAndAccessLog(
  logger: Logger,
  writeAccessLine: AccessLogWriter = createAccessLogWriter(logger),
): Middleware<RequestState> {
  return async (ctx, next) => {
    const started = performance.now();
    const correlationId = correlationIdOf(ctx.get("x-request-id"));
    let log: Logger | undefined;
    ctx.state.correlationId = correlationId;
    Object.defineProperty(ctx.state, "log", { get: () => (log ??= logger.child({ correlationId })) });
    ctx.state.logFields = {};
    ctx.set("X-Request-Id", correlationId);
    try {
      await next();
    } finally {
      const quiet = ctx.path.startsWith("/health") || ctx.path === "/metrics";
      writeAccessLine(quiet ? "debug" : "info", {
        correlationId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...ctx.state.logFields,
      });
    }
  };
}

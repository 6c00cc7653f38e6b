import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../../shared/logger.js";

/** Per-request state the webhook middlewares share. */
export interface RequestState {
  correlationId: string;
  log: Logger;
  /** Fields added to the one access-log line written when the request ends. */
  logFields: Record<string, unknown>;
}

const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/**
 * Takes the correlation id from `X-Request-Id` (when it is a sane token) or makes one, echoes it
 * back, and writes one JSON log line per request with its outcome.
 */
export function correlationAndAccessLog(logger: Logger): Middleware<RequestState> {
  return async (ctx, next) => {
    const started = performance.now();
    const given = ctx.get("x-request-id");
    const correlationId = ACCEPTABLE_ID.test(given) ? given : randomUUID();
    ctx.state.correlationId = correlationId;
    ctx.state.log = logger.child({ correlationId });
    ctx.state.logFields = {};
    ctx.set("X-Request-Id", correlationId);
    try {
      await next();
    } finally {
      const quiet = ctx.path.startsWith("/health") || ctx.path === "/metrics";
      const level = quiet ? "debug" : "info";
      // winston formats a line before its transports filter by level: skip the work when nobody listens.
      if (logger.isLevelEnabled(level)) {
        ctx.state.log.log(level, "request", {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
          ...ctx.state.logFields,
        });
      }
    }
  };
}

import winston from "winston";

/** The winston logger type used everywhere; children carry `correlationId` and other context. */
export type Logger = winston.Logger;

/** Keys whose values are never written to a log line, whatever the caller passes. */
const SECRET_KEY = /secret|password|token|authorization|api[_-]?key|private[_-]?key|signature|assertion/i;

const redactSecrets = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEY.test(key) && key !== "correlationId") info[key] = "[redacted]";
  }
  return info;
});

/** Adds the fields `contextFields` answers (trace ids) to a line that does not carry them already. */
const addContextFields = winston.format((info, fields: unknown) => {
  for (const [key, value] of Object.entries((fields as () => Record<string, string> | undefined)() ?? {}))
    info[key] ??= value;
  return info;
});

/**
 * Creates the JSON-lines logger (one object per line on stdout; on stderr with `toStderr`, as the
 * operations commands keep stdout for their output). `level` defaults to `info`; `contextFields`
 * (set only when tracing is on) adds the active span's `traceId` and `spanId` to each line.
 */
export function createLogger(
  options: {
    level?: string;
    service?: string;
    silent?: boolean;
    toStderr?: boolean;
    contextFields?: () => Record<string, string> | undefined;
  } = {},
): Logger {
  return winston.createLogger({
    level: options.level ?? "info",
    silent: options.silent ?? false,
    defaultMeta: { service: options.service ?? "stripe-salesforce-sync" },
    format: winston.format.combine(
      ...(options.contextFields ? [addContextFields(options.contextFields)] : []),
      redactSecrets(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [
      new winston.transports.Console(
        options.toStderr ? { stderrLevels: Object.keys(winston.config.npm.levels) } : {},
      ),
    ],
  });
}

import type { AppConfig } from "../config/config.js";
import { sleep, systemClock } from "../shared/clock.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { isTracingRequested, startTracing } from "../shared/start-tracing.js";
import type { Instrumentation } from "./instrumentation.js";

/** Longest the last export may hold up the exit (the SDK's own export timeout is 30 s). */
const SHUTDOWN_BOUND_MS = 3000;

/** The roles' logger, and their instrumentation when tracing is on. */
export interface Telemetry {
  logger: Logger;
  /** Undefined unless the OTEL_* variables ask for traces. */
  instrumentation: Instrumentation | undefined;
  /** Exports the last spans (for at most 3 s) and stops tracing; nothing to do when it is off. */
  shutdown(): Promise<void>;
}

/**
 * Creates the roles' JSON logger and, when the OTEL_* variables of `env` ask for traces, starts
 * OpenTelemetry and the instrumentation (log lines then carry `traceId` and `spanId`). When they do
 * not, nothing of OpenTelemetry is loaded.
 */
export async function startTelemetry(config: AppConfig, env: NodeJS.ProcessEnv): Promise<Telemetry> {
  if (!isTracingRequested(env)) {
    return {
      logger: createLogger({ level: config.logLevel }),
      instrumentation: undefined,
      shutdown: async () => {},
    };
  }
  const { activeTraceFields } = await import("../shared/trace-log-fields.js");
  const logger = createLogger({ level: config.logLevel, contextFields: activeTraceFields });
  const tracing = await startTracing(env, { logger, maxGroupSize: config.worker.maxGroupSize });
  if (!tracing) return { logger, instrumentation: undefined, shutdown: async () => {} };
  const { createInstrumentation } = await import("./instrumentation.js");
  logger.info("tracing on (OpenTelemetry, configured by the OTEL_* variables)", {
    exporter: env.OTEL_TRACES_EXPORTER ?? "otlp",
    endpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "default",
    sampler: env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on",
    linkLimit: tracing.linkLimit,
  });
  return {
    logger,
    instrumentation: createInstrumentation(tracing),
    shutdown: () => Promise.race([tracing.shutdown(), sleep(systemClock, SHUTDOWN_BOUND_MS)]),
  };
}

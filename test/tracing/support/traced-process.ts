import { createLogger, type Logger } from "../../../src/shared/logger.js";
import { startTracing } from "../../../src/shared/start-tracing.js";
import { activeTraceFields } from "../../../src/shared/trace-log-fields.js";
import type { Tracing } from "../../../src/shared/tracing.js";
import type { OtlpReceiver } from "../../support/otlp-receiver.js";

/** The OTEL_* settings of a test that traces into `receiver`: JSON over HTTP, exported every 50 ms. */
export function otelEnv(receiver: OtlpReceiver): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "50",
    OTEL_SERVICE_NAME: "sync-under-test",
  };
}

/**
 * The roles' JSON-lines logger as tracing makes it, its lines (and the webhook's access lines,
 * which go straight to stdout) kept for the test instead of printed, until `stop`.
 */
export function captureLogLines(): { logger: Logger; lines(): Record<string, unknown>[]; stop(): void } {
  const lines: Record<string, unknown>[] = [];
  const write = process.stdout.write;
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : undefined;
    if (text?.startsWith("{") && text.includes('"level":')) {
      for (const line of text.split("\n")) if (line.startsWith("{")) lines.push(JSON.parse(line));
      const done = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
      done?.();
      return true;
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  return {
    logger: createLogger({ level: "info", contextFields: activeTraceFields }),
    lines: () => [...lines],
    stop: () => void (process.stdout.write = write),
  };
}

/**
 * Starts the SDK in this process with `env` laid over process.env (the SDK reads its settings
 * there), as the roles start it; `stop` shuts it down and puts process.env back.
 */
export async function startTestTracing(
  env: Record<string, string>,
  options: { logger: Logger; maxGroupSize?: number },
): Promise<{ tracing: Tracing; stop(): Promise<void> }> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  const restore = () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  const tracing = await startTracing(process.env, {
    logger: options.logger,
    maxGroupSize: options.maxGroupSize ?? 1000,
  }).catch((error: unknown) => {
    restore();
    throw error;
  });
  if (!tracing) {
    restore();
    throw new Error("the OTEL_* settings given did not turn tracing on");
  }
  return {
    tracing,
    async stop() {
      await tracing.shutdown();
      restore();
    },
  };
}

import type { Logger } from "./logger.js";
import type { startTracingSdk } from "./tracing-sdk.js";
import type { Tracing } from "./tracing.js";

/** Most links the service asks one span to keep; a larger group spreads its links over more spans. */
export const MAX_LINKS_PER_SPAN = 1000;

/** The SDK's own default of OTEL_SPAN_LINK_COUNT_LIMIT. */
const SDK_DEFAULT_LINK_LIMIT = 128;

const isTrue = (value: string | undefined) => value?.trim().toLowerCase() === "true";
const listOf = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");

/**
 * Whether the standard OTEL_* variables ask for traces: an exporter named in OTEL_TRACES_EXPORTER
 * (`otlp`, `console`, `zipkin`; not `none`), else an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); never with OTEL_SDK_DISABLED=true. Reads only `env`.
 */
export function isTracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (isTrue(env.OTEL_SDK_DISABLED)) return false;
  const exporters = listOf(env.OTEL_TRACES_EXPORTER);
  // As the SDK reads the list: `none` first turns traces off, whatever follows.
  if (exporters.length > 0) return exporters[0] !== "none";
  return listOf(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).length > 0;
}

/**
 * Links one span keeps: OTEL_SPAN_LINK_COUNT_LIMIT (default 128), raised to the worker's group size
 * up to MAX_LINKS_PER_SPAN, so a group span links every message it holds.
 */
export function linkLimitFor(env: NodeJS.ProcessEnv, maxGroupSize: number): number {
  const configured = Number(env.OTEL_SPAN_LINK_COUNT_LIMIT);
  const base = Number.isInteger(configured) && configured > 0 ? configured : SDK_DEFAULT_LINK_LIMIT;
  return Math.max(base, Math.min(maxGroupSize, MAX_LINKS_PER_SPAN));
}

/** What `startTracing` needs. */
export interface StartTracingOptions {
  /** Where the SDK's own warnings go (export failures), unless OTEL_LOG_LEVEL sends them to the console. */
  logger: Logger;
  /** The worker's largest group (config worker.maxGroupSize): the span-link limit follows it. */
  maxGroupSize: number;
  /** Loads the SDK module (default: tracing-sdk.ts); tests count the loads. */
  loadSdk?: () => Promise<{ startTracingSdk: typeof startTracingSdk }>;
}

/**
 * Starts OpenTelemetry's Node SDK when the OTEL_* variables of `env` ask for traces
 * (`isTracingRequested`), else answers undefined without loading any of it. The SDK then reads its
 * settings (endpoint, protocol, sampler, resource, batching) from the process environment, as
 * OpenTelemetry documents them.
 */
export async function startTracing(
  env: NodeJS.ProcessEnv,
  options: StartTracingOptions,
): Promise<Tracing | undefined> {
  if (!isTracingRequested(env)) return undefined;
  const { startTracingSdk } = await (options.loadSdk ?? (() => import("./tracing-sdk.js")))();
  return startTracingSdk({
    logger: options.logger,
    linkLimit: linkLimitFor(env, options.maxGroupSize),
    isDiagnosticsToConsole: env.OTEL_LOG_LEVEL !== undefined,
  });
}

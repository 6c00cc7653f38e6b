// Loaded only when the OTEL_* variables ask for traces (start-tracing.ts): the SDK and its exporters
// cost about 30 MB of RSS and half a second of start-up.
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { NodeSDK } from "@opentelemetry/sdk-node";
import type { Logger } from "./logger.js";
import type { Tracing } from "./tracing.js";

/** `service.name` unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name another. */
export const DEFAULT_SERVICE_NAME = "stripe-salesforce-sync";

/** The name of the service's tracer (its instrumentation scope). */
export const TRACER_NAME = "stripe-salesforce-sync";

/** The SDK's diagnostics as JSON log lines: errors and warnings (a collector that is down) at warn. */
function diagnosticsTo(logger: Logger): DiagLogger {
  const write =
    (level: "warn" | "debug") =>
    (message: string, ...args: unknown[]) =>
      logger[level](`OpenTelemetry: ${message}`, args.length > 0 ? { detail: args.map(String) } : {});
  return {
    error: write("warn"),
    warn: write("warn"),
    info: write("debug"),
    debug: write("debug"),
    verbose: write("debug"),
  };
}

/** Options of `startTracingSdk`. */
export interface TracingSdkOptions {
  logger: Logger;
  /** Links one span keeps (see linkLimitFor). */
  linkLimit: number;
  /** OTEL_LOG_LEVEL is set: the SDK writes its diagnostics to the console itself. */
  isDiagnosticsToConsole: boolean;
}

/**
 * Starts the Node SDK for traces only, configured by the OTEL_* variables (exporter and protocol,
 * endpoint, headers, sampler, batch processor, resource); metrics stay with Prometheus and logs
 * with stdout. Registers the SDK's tracer provider, context manager and propagator globally.
 */
export function startTracingSdk(options: TracingSdkOptions): Tracing {
  if (!options.isDiagnosticsToConsole) diag.setLogger(diagnosticsTo(options.logger), DiagLogLevel.WARN);
  const sdk = new NodeSDK({
    // The env detector runs last, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over this name.
    resource: defaultResource().merge(resourceFromAttributes({ "service.name": DEFAULT_SERVICE_NAME })),
    spanLimits: { linkCountLimit: options.linkLimit },
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const provider = trace.getTracerProvider() as { getDelegate?: () => { forceFlush?: () => Promise<void> } };
  return {
    tracer: trace.getTracer(TRACER_NAME),
    messagePropagator: new W3CTraceContextPropagator(),
    linkLimit: options.linkLimit,
    flush: async () => await provider.getDelegate?.().forceFlush?.(),
    async shutdown() {
      await sdk.shutdown();
      // Back to the API's no-ops, so nothing of this SDK lingers (tests start it more than once).
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}

import { expect } from "chai";
import { loadConfig } from "../../src/config/config.js";
import { startTelemetry } from "../../src/roles/start-telemetry.js";
import { createLogger } from "../../src/shared/logger.js";
import { isTracingRequested, linkLimitFor, startTracing } from "../../src/shared/start-tracing.js";

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };

describe("tracing: on only when the OTEL_* variables ask for it", () => {
  const cases: [string, NodeJS.ProcessEnv, boolean][] = [
    ["no OTEL_* variable", {}, false],
    [
      "only a service name and a sampler",
      { OTEL_SERVICE_NAME: "sync", OTEL_TRACES_SAMPLER: "always_on" },
      false,
    ],
    ["an OTLP endpoint", ENDPOINT, true],
    [
      "an OTLP endpoint for traces",
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" },
      true,
    ],
    ["an exporter named (the default endpoint, a local collector)", { OTEL_TRACES_EXPORTER: "otlp" }, true],
    ["the console exporter", { OTEL_TRACES_EXPORTER: "console" }, true],
    ["an endpoint but the exporter `none`", { ...ENDPOINT, OTEL_TRACES_EXPORTER: "none" }, false],
    ["an endpoint but OTEL_SDK_DISABLED=true", { ...ENDPOINT, OTEL_SDK_DISABLED: "true" }, false],
    ["an endpoint and OTEL_SDK_DISABLED=false", { ...ENDPOINT, OTEL_SDK_DISABLED: "false" }, true],
  ];
  for (const [what, env, isOn] of cases) {
    it(`${what}: ${isOn ? "on" : "off"}`, () => {
      expect(isTracingRequested(env)).to.equal(isOn);
    });
  }

  it("off, the SDK module is never loaded and no tracing comes back", async () => {
    let loads = 0;
    const loadSdk = async () => {
      loads += 1;
      throw new Error("the SDK must not be loaded");
    };
    const logger = createLogger({ silent: true });
    for (const env of [
      {},
      { ...ENDPOINT, OTEL_SDK_DISABLED: "true" },
      { ...ENDPOINT, OTEL_TRACES_EXPORTER: "none" },
    ])
      expect(await startTracing(env, { logger, maxGroupSize: 1000, loadSdk })).to.equal(undefined);
    expect(loads).to.equal(0);
  });

  it("off, the roles get no instrumentation", async () => {
    const telemetry = await startTelemetry(loadConfig("all", { NODE_ENV: "test" }), { NODE_ENV: "test" });
    expect(telemetry.instrumentation).to.equal(undefined);
    await telemetry.shutdown();
  });

  it("the span-link limit follows the worker's group size, up to 1000, and never falls below OTEL_SPAN_LINK_COUNT_LIMIT", () => {
    expect(linkLimitFor({}, 50)).to.equal(128);
    expect(linkLimitFor({}, 200)).to.equal(200);
    expect(linkLimitFor({}, 1000)).to.equal(1000);
    expect(linkLimitFor({}, 5000)).to.equal(1000);
    expect(linkLimitFor({ OTEL_SPAN_LINK_COUNT_LIMIT: "2000" }, 5000)).to.equal(2000);
    expect(linkLimitFor({ OTEL_SPAN_LINK_COUNT_LIMIT: "64" }, 50)).to.equal(64);
    expect(linkLimitFor({ OTEL_SPAN_LINK_COUNT_LIMIT: "nonsense" }, 50)).to.equal(128);
  });
});

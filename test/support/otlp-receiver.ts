import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { waitFor } from "./child-server.js";

/** A link of a received span. */
export interface ReceivedLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

/** One span as an OTLP/HTTP exporter sent it, its attributes read back into plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: ReceivedLink[];
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  startNanos: bigint;
  endNanos: bigint;
  /** The resource attributes of the exporting process (`service.name`...). */
  resource: Record<string, unknown>;
}

/** An in-process OTLP/HTTP trace receiver (http/json) for tests. */
export interface OtlpReceiver {
  /** The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds `/v1/traces`). */
  endpoint: string;
  /** Every span received so far, in arrival order. */
  spans(): ReceivedSpan[];
  /** Export requests received so far (a request may carry many spans). */
  requests(): number;
  /** Waits until the spans received satisfy `isDone`; returns them. */
  waitForSpans(
    isDone: (spans: ReceivedSpan[]) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<ReceivedSpan[]>;
  /** Forgets what was received. */
  clear(): void;
  stop(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

function valueOf(value: AnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

const attributesOf = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));

/** OTLP/JSON writes ids as hex; base64 is accepted too. */
function idOf(id: string | undefined): string {
  if (!id) return "";
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

interface JsonSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: KeyValue[];
  links?: { traceId?: string; spanId?: string; attributes?: KeyValue[] }[];
  status?: { code?: number };
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
}

interface ExportRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

function decode(request: ExportRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: idOf(span.traceId),
        spanId: idOf(span.spanId),
        parentSpanId: idOf(span.parentSpanId),
        name: span.name,
        kind: span.kind ?? 0,
        attributes: attributesOf(span.attributes),
        links: (span.links ?? []).map((link) => ({
          traceId: idOf(link.traceId),
          spanId: idOf(link.spanId),
          attributes: attributesOf(link.attributes),
        })),
        statusCode: span.status?.code ?? 0,
        startNanos: BigInt(span.startTimeUnixNano ?? 0),
        endNanos: BigInt(span.endTimeUnixNano ?? 0),
        resource,
      })),
    );
  });
}

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

/**
 * Starts a receiver on a free loopback port that takes OTLP/HTTP JSON exports on `/v1/traces`
 * (the exporter of `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps the spans; anything else is
 * answered 415, so a test set up with another protocol fails loudly.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let received: ReceivedSpan[] = [];
  let requestCount = 0;
  const server = createServer((request, response) => {
    const isJson = request.headers["content-type"]?.startsWith("application/json") === true;
    if (request.method !== "POST" || request.url !== "/v1/traces" || !isJson) {
      request.resume();
      response.writeHead(415).end();
      return;
    }
    bodyOf(request)
      .then((body) => {
        requestCount += 1;
        received.push(...decode(JSON.parse(body.toString("utf8")) as ExportRequest));
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      })
      .catch(() => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...received],
    requests: () => requestCount,
    async waitForSpans(isDone, what, timeoutMs = 15_000) {
      await waitFor(async () => isDone(received), timeoutMs, what);
      return [...received];
    },
    clear() {
      received = [];
      requestCount = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

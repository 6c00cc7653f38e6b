// A stand-in OTLP/HTTP collector for measuring the cost of tracing: answers every export 200 and
// counts what it took, nothing more. With it running, `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
// npm run bench:ingest` measures the web role with tracing on (README, "Benchmarks").
import { createServer } from "node:http";

let requests = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on("data", (chunk: Buffer) => (bytes += chunk.length));
  request.on("end", () => {
    requests += 1;
    // An empty body is an empty ExportTraceServiceResponse in both protobuf and JSON.
    response.writeHead(200, { "content-type": request.headers["content-type"] ?? "application/x-protobuf" });
    response.end();
  });
});
server.listen(Number(process.env.PORT ?? 4318), "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`OTLP sink on ${typeof address === "object" && address ? address.port : ""}\n`);
});
const report = () => process.stdout.write(`OTLP sink: ${requests} exports, ${(bytes / 1e6).toFixed(1)} MB\n`);
setInterval(report, 30_000).unref();
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.on(signal, () => {
    report();
    server.close(() => process.exit(0));
  });

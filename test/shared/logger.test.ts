import { Writable } from "node:stream";
import { expect } from "chai";
import winston from "winston";
import { createLogger } from "../../src/shared/logger.js";

function capture(): { lines: Record<string, unknown>[]; logger: winston.Logger } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug" });
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    }),
  );
  return { lines, logger };
}

describe("logging", () => {
  it("writes one JSON object per line with the service, level, message and timestamp", () => {
    const { lines, logger } = capture();
    logger.child({ correlationId: "req-1" }).info("request", { status: 200 });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      service: "stripe-salesforce-sync",
      level: "info",
      message: "request",
      correlationId: "req-1",
      status: 200,
    });
    expect(lines[0]?.timestamp).to.be.a("string");
  });

  it("never writes the value of a field that looks like a secret", () => {
    const { lines, logger } = capture();
    logger.warn("token refused", {
      accessToken: "00Dxx!AQ.secret-session",
      client_secret: "s3cr3t",
      password: "hunter2",
      authorization: "Bearer abc",
      stripeSignature: "t=1,v1=abc",
      apiKey: "sk_live_123",
      flow: "jwt",
    });
    const text = JSON.stringify(lines);
    for (const secret of [
      "00Dxx!AQ.secret-session",
      "s3cr3t",
      "hunter2",
      "Bearer abc",
      "t=1,v1=abc",
      "sk_live_123",
    ]) {
      expect(text).to.not.include(secret);
    }
    expect(lines[0]).to.include({ flow: "jwt", password: "[redacted]" });
  });
});

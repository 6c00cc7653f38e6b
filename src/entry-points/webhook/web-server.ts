import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "../../shared/logger.js";
import { declaresTooLarge } from "./read-raw-body.js";
import { isStripeWebhookPath } from "./stripe-webhook-handler.js";
import type { WebApp } from "./web-app.js";

/** Options of the webhook role's HTTP server. */
export interface WebServerOptions {
  logger: Logger;
  /** The webhook's body limit: a request declaring more is not asked to send its body. */
  bodyLimitBytes: number;
}

/** Status for a request Node's HTTP parser refused. */
function statusOfClientError(code: string | undefined): number {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return 408;
  return 400;
}

/**
 * The HTTP server: `/webhook/stripe` to its own handler, everything else to Koa. Requests Node's parser refuses (an unknown method, a malformed
 * header) are answered 400 (431, 408) and logged as one JSON line instead of Node's bare answer;
 * errors Koa would print as a stack go through the logger; a request that declares a body above
 * the limit and waits for `100 Continue` is not sent one, so it gets its 413 without sending the body.
 */
export function createWebServer(app: WebApp, options: WebServerOptions): Server {
  const { logger } = options;
  app.koa.on("error", (error: Error) =>
    logger.error("request handling failed", { error: error.stack ?? error.message }),
  );
  const handleKoa = app.koa.callback();
  const handle = (request: IncomingMessage, response: ServerResponse) =>
    isStripeWebhookPath(request.url)
      ? app.handleWebhook(request, response)
      : void handleKoa(request, response);
  const server = createServer(handle);
  // Stripe holds a connection open between deliveries; keep idle sockets longer than a typical LB.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    // https://nodejs.org/api/http.html#event-clienterror: the socket may be gone already.
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = statusOfClientError(error.code);
    logger.info("request refused by the HTTP parser", {
      status,
      code: error.code,
      reason: error.message,
      remoteAddress: socket.remoteAddress,
    });
    const body = JSON.stringify({ error: "bad_request", message: error.message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  server.on("checkContinue", (request, response) => {
    if (!declaresTooLarge(request, options.bodyLimitBytes)) response.writeContinue();
    handle(request, response);
  });
  return server;
}

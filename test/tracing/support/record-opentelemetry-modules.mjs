// Preloaded (NODE_OPTIONS=--import=...) into a program under test: appends the URL of every
// @opentelemetry module the program resolves, by import or require, to the file OTEL_MODULES_LOG names.
import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";
import process from "node:process";

const logFile = process.env.OTEL_MODULES_LOG;
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    if (logFile && resolved.url.includes("/node_modules/@opentelemetry/"))
      appendFileSync(logFile, `${resolved.url}\n`);
    return resolved;
  },
});

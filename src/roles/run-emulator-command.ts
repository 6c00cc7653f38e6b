import { readFileSync } from "node:fs";
import { DEFAULT_EMULATOR_CREDENTIALS, startSalesforceEmulator } from "../emulator/salesforce/index.js";
import { loadMapping } from "../domain/sync/mapping-file.js";
import { effectiveObjects } from "../domain/sync/mapping.js";
import { createLogger } from "../shared/logger.js";
import { LOCAL_SALESFORCE_EMULATOR_PORT } from "./local-defaults.js";

function secretOr(name: string, fallback: string): string {
  const file = process.env[`${name}_FILE`];
  if (file) return readFileSync(file, "utf8").trim();
  return process.env[name] || fallback;
}

/**
 * `salesforce-emulator`: the local Salesforce emulator on its own (for skaffold's dev profile and
 * for tests of the built image). Credentials come from the usual SALESFORCE_* variables (or their
 * `_FILE` forms), else the local defaults; SALESFORCE_EMULATOR_HOST picks the interface.
 */
export async function runEmulatorCommand(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? "info" });
  const d = DEFAULT_EMULATOR_CREDENTIALS;
  const jwtKeyFile = process.env.SALESFORCE_EMULATOR_JWT_PUBLIC_KEY_FILE;
  const emulator = await startSalesforceEmulator({
    port: Number(process.env.SALESFORCE_EMULATOR_PORT ?? LOCAL_SALESFORCE_EMULATOR_PORT),
    host: process.env.SALESFORCE_EMULATOR_HOST ?? "127.0.0.1",
    objects: effectiveObjects(loadMapping(process.env.MAPPING_FILE || undefined)),
    credentials: {
      clientId: secretOr("SALESFORCE_CLIENT_ID", d.clientId),
      clientSecret: secretOr("SALESFORCE_CLIENT_SECRET", d.clientSecret),
      username: process.env.SALESFORCE_USERNAME || d.username,
      password: secretOr("SALESFORCE_PASSWORD", d.password),
      securityToken: secretOr("SALESFORCE_SECURITY_TOKEN", d.securityToken),
      ...(jwtKeyFile ? { jwtPublicKey: readFileSync(jwtKeyFile, "utf8") } : {}),
    },
    logger,
  });
  logger.info("Salesforce emulator listening", { url: emulator.url });
  const stop = () => void emulator.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

import { readFileSync } from "node:fs";
import { ConfigError } from "../shared/errors.js";

/** Environment variables that hold secrets; each may instead be given as `NAME_FILE=/path`. */
export const SECRET_VARIABLES = [
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_API_KEY",
  "SALESFORCE_CLIENT_ID",
  "SALESFORCE_CLIENT_SECRET",
  "SALESFORCE_PASSWORD",
  "SALESFORCE_SECURITY_TOKEN",
  "REDIS_PASSWORD",
] as const;

/**
 * Returns a copy of `env` where every `NAME_FILE` of a secret variable is replaced by `NAME`
 * holding the file's content (trailing newline removed), as Kubernetes mounts Secrets.
 * Giving both `NAME` and `NAME_FILE` is an error: one of them would be silently ignored.
 */
export function resolveSecretFiles(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const name of SECRET_VARIABLES) {
    const path = env[`${name}_FILE`];
    if (path === undefined || path === "") continue;
    if (env[name] !== undefined && env[name] !== "") {
      throw new ConfigError(`${name}_FILE: both ${name} and ${name}_FILE are set; set only one`);
    }
    try {
      resolved[name] = readFile(path).replace(/\r?\n$/, "");
    } catch (error) {
      throw new ConfigError(`${name}_FILE: cannot read ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    delete resolved[`${name}_FILE`];
  }
  return resolved;
}

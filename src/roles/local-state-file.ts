import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * What a running local mode (`npm start`) tells the operations commands: where its queue, store
 * and Salesforce emulator are. Written when it has started them, removed when it stops; a file
 * left by a process that died is recognised by its pid and ignored.
 */
export interface LocalEndpoints {
  /** Process id of the local mode that wrote the file. */
  pid: number;
  /** ISO 8601 time it started. */
  startedAt: string;
  /** The role it runs (`all`, `web`, `worker`). */
  role: string;
  /** The queue: the embedded server's endpoint (absent for a configured queue) and the queue URLs. */
  sqs?: { endpoint?: string; queueUrl: string; dlqUrl?: string };
  /** The local Salesforce emulator and its (local, not secret) client credentials; absent for a real org. */
  salesforce?: { loginUrl: string; clientId: string; clientSecret: string };
  /** `memory` when the worker keeps its state in its own memory, where no other process can read it. */
  store: "redis" | "memory";
  /** The Redis URL, when the store is Redis and the URL carries no password. */
  redisUrl?: string;
}

/** The state file: LOCAL_STATE_FILE, else `stripe-salesforce-sync/local-mode.json` under the OS temp dir. */
export function localStateFilePath(configured: string | undefined): string {
  return configured ?? join(tmpdir(), "stripe-salesforce-sync", "local-mode.json");
}

/** Writes the file, readable by its owner only. */
export function writeLocalState(path: string, endpoints: LocalEndpoints): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the file if `pid` wrote it (another local mode may have started since). */
export function removeLocalState(path: string, pid: number): void {
  const current = readFileQuietly(path);
  if (current?.pid === pid) rmSync(path, { force: true });
}

/** True when a process with this id exists. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readFileQuietly(path: string): LocalEndpoints | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as LocalEndpoints;
    return typeof parsed.pid === "number" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The endpoints of the running local mode, or why there is none (no file, or its process is gone). */
export function readLocalState(
  path: string,
): { endpoints: LocalEndpoints } | { missing: "no_file" | "process_gone"; pid?: number } {
  const endpoints = readFileQuietly(path);
  if (!endpoints) return { missing: "no_file" };
  if (!isAlive(endpoints.pid)) return { missing: "process_gone", pid: endpoints.pid };
  return { endpoints };
}

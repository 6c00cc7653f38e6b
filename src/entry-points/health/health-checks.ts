import type { ReadinessCheck } from "../../shared/readiness-check.js";

export type { ReadinessCheck };

/** Result of probing one dependency. */
export interface DependencyStatus {
  status: "up" | "down";
  /** Why it is down, or a short note. */
  detail?: string;
  latencyMs?: number;
}

/** Runs every check at once, each bounded by `timeoutMs`, and reports per dependency. */
export async function runReadinessChecks(
  checks: readonly ReadinessCheck[],
  timeoutMs = 2000,
): Promise<{ ready: boolean; dependencies: Record<string, DependencyStatus> }> {
  const entries = await Promise.all(
    checks.map(async ({ name, check }): Promise<[string, DependencyStatus]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, { status: "up", latencyMs: Math.round(performance.now() - started) }];
      } catch (error) {
        return [name, { status: "down", detail: (error as Error).message || String(error) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const dependencies = Object.fromEntries(entries);
  return { ready: entries.every(([, s]) => s.status === "up"), dependencies };
}

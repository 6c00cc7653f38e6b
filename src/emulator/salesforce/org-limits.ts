import type { EmulatorStats } from "./emulator-stats.js";

/** One entry of the Limits resource. */
export interface OrgLimit {
  Max: number;
  Remaining: number;
}

/**
 * `GET /services/data/vXX.X/limits`: the org's limits, shaped like Salesforce's answer (numbers, `Max` and
 * `Remaining`). DailyApiRequests follows the emulator's API usage; the others are Developer Edition figures.
 */
export function limitsAnswer(stats: EmulatorStats): Record<string, OrgLimit> {
  const { used, limit } = stats.read().apiUsage;
  const full = (max: number): OrgLimit => ({ Max: max, Remaining: max });
  return {
    ConcurrentAsyncGetReportInstances: full(200),
    ConcurrentSyncReportRuns: full(20),
    DailyApiRequests: { Max: limit, Remaining: Math.max(0, limit - used) },
    DailyAsyncApexExecutions: full(250000),
    DailyBulkApiBatches: full(15000),
    DailyBulkV2QueryFileStorageMB: full(976562),
    DailyBulkV2QueryJobs: full(10000),
    DataStorageMB: full(5),
    FileStorageMB: full(20),
  };
}

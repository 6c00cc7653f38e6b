import type { TokenFlow } from "./oauth-token-endpoint.js";
import type { UpsertTally } from "./upsert-records.js";

/** A REST operation as the emulator counts it. */
export type EmulatorOperation =
  | "versions"
  | "upsert"
  | "collections_upsert"
  | "query"
  | "describe"
  | "limits"
  | "composite"
  | "bulk"
  | "other";

/** What the emulator has seen since it started (or since `reset`). */
export interface EmulatorStatsSnapshot {
  /** Token requests: all, refused, and by flow. */
  tokenRequests: { total: number; failed: number; byFlow: Partial<Record<TokenFlow, number>> };
  /**
   * Authenticated REST calls (what Salesforce meters as API requests), all and by operation; a composite
   * request is one call, and its subrequests are counted apart in `subrequestsByOperation`.
   */
  apiCalls: {
    total: number;
    byOperation: Partial<Record<EmulatorOperation, number>>;
    subrequestsByOperation: Partial<Record<EmulatorOperation, number>>;
  };
  /** Records inserted, updated and failed through upserts. */
  records: UpsertTally;
  /** The daily API usage reported in `Sforce-Limit-Info`. */
  apiUsage: { used: number; limit: number };
}

/** Counters behind `GET /__emulator/stats`. */
export class EmulatorStats {
  private snapshot: EmulatorStatsSnapshot;

  constructor(private readonly apiLimit: number) {
    this.snapshot = this.empty();
  }

  /** Counts a composite subrequest by its operation (not an API call of its own). */
  countSubrequest(operation: EmulatorOperation): void {
    const subrequests = this.snapshot.apiCalls.subrequestsByOperation;
    subrequests[operation] = (subrequests[operation] ?? 0) + 1;
  }

  /** Sets the org's daily API usage (and its limit, when given), e.g. to exhaust it or let it fall again. */
  setApiUsage(used: number, limit?: number): void {
    this.snapshot.apiUsage.used = used;
    if (limit !== undefined) this.snapshot.apiUsage.limit = limit;
  }

  /** True when the daily allowance is already spent, so the next metered call is refused. */
  isLimitReached(): boolean {
    return this.snapshot.apiUsage.used >= this.snapshot.apiUsage.limit;
  }

  /** Counts a token request by flow and whether it was refused. */
  countToken(flow: TokenFlow, isRefused: boolean): void {
    const tokens = this.snapshot.tokenRequests;
    tokens.total += 1;
    if (isRefused) tokens.failed += 1;
    tokens.byFlow[flow] = (tokens.byFlow[flow] ?? 0) + 1;
  }

  /** Counts an authenticated API call; returns false when the daily limit is already spent. */
  countCall(operation: EmulatorOperation): boolean {
    const calls = this.snapshot.apiCalls;
    calls.total += 1;
    calls.byOperation[operation] = (calls.byOperation[operation] ?? 0) + 1;
    if (operation === "versions") return true;
    this.snapshot.apiUsage.used += 1;
    return this.snapshot.apiUsage.used <= this.snapshot.apiUsage.limit;
  }

  /** Adds an upsert's created/updated/failed counts. */
  countRecords(tally: UpsertTally): void {
    this.snapshot.records.created += tally.created;
    this.snapshot.records.updated += tally.updated;
    this.snapshot.records.failed += tally.failed;
  }

  /** Puts the record counters back to `tally` (a rolled-back composite request wrote nothing). */
  restoreRecords(tally: UpsertTally): void {
    this.snapshot.records = { ...tally };
  }

  /** The `Sforce-Limit-Info` header value. */
  limitInfo(): string {
    return `api-usage=${this.snapshot.apiUsage.used}/${this.snapshot.apiUsage.limit}`;
  }

  /** A copy of the counters. */
  read(): EmulatorStatsSnapshot {
    return structuredClone(this.snapshot);
  }

  /** Zeroes every counter. */
  reset(): void {
    this.snapshot = this.empty();
  }

  private empty(): EmulatorStatsSnapshot {
    return {
      tokenRequests: { total: 0, failed: 0, byFlow: {} },
      apiCalls: { total: 0, byOperation: {}, subrequestsByOperation: {} },
      records: { created: 0, updated: 0, failed: 0 },
      apiUsage: { used: 0, limit: this.apiLimit },
    };
  }
}

import type { ReadObjectKind } from "../../domain/sync/map-read-object.js";
import type { ObjectSyncReport } from "../../domain/sync/sync-objects.js";
import type { Metrics } from "../../shared/metrics.js";
import type { Reporter } from "../reporter.js";

/** Failures printed one by one before only counting them. */
const MAX_FAILURE_LINES = 50;

/** Counts of one kind. */
interface KindCounts {
  listed: number;
  created: number;
  updated: number;
  skipped: Record<string, number>;
  failed: Record<string, number>;
}

/** Salesforce REST calls the client made, from its own counter (bulk calls are counted apart). */
export async function restCalls(metrics: Metrics): Promise<number> {
  const metric = await metrics.salesforceCalls.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

/** What a backfill or a reconcile fix wrote, skipped and failed, per kind; failures printed with their reason. */
export class SyncTally {
  private readonly kinds = new Map<ReadObjectKind, KindCounts>();
  private bulkCalls = 0;
  private readonly jobs: Record<string, unknown>[] = [];
  private failureLines = 0;
  private leaseLost = 0;

  constructor(private readonly reporter: Reporter) {}

  private of(kind: ReadObjectKind): KindCounts {
    let counts = this.kinds.get(kind);
    if (!counts) {
      counts = { listed: 0, created: 0, updated: 0, skipped: {}, failed: {} };
      this.kinds.set(kind, counts);
    }
    return counts;
  }

  /** Objects read from Stripe. */
  listed(kind: ReadObjectKind, count: number): void {
    this.of(kind).listed += count;
  }

  /** Adds one report; `retriedLater` busy records are counted when their retry reports. */
  add(report: ObjectSyncReport, via: "collections" | "bulk", retriedLater = 0): void {
    let busyLeft = retriedLater;
    for (const { kind, object, externalId, outcome } of report.results) {
      const counts = this.of(kind);
      if (outcome.status === "written") counts[outcome.created ? "created" : "updated"] += 1;
      else if (outcome.status === "skipped") {
        if (outcome.reason === "busy" && busyLeft > 0) {
          busyLeft -= 1;
          continue;
        }
        counts.skipped[outcome.reason] = (counts.skipped[outcome.reason] ?? 0) + 1;
      } else {
        counts.failed[outcome.reason] = (counts.failed[outcome.reason] ?? 0) + 1;
        if (this.failureLines++ < MAX_FAILURE_LINES)
          this.reporter.item(
            "failed",
            { object, externalId, reason: outcome.reason, detail: outcome.detail, via },
            `failed ${object} ${externalId}: ${outcome.detail}`,
          );
      }
    }
    for (const job of report.bulkJobs) {
      this.bulkCalls += job.apiCalls;
      this.jobs.push(job);
      this.reporter.item(
        "bulk_job",
        job,
        `bulk job ${job.jobId}: ${job.state}${job.errorMessage ? ` (${job.errorMessage})` : ""}, ${job.apiCalls} API calls`,
      );
    }
    if (report.isLeaseLost) {
      this.leaseLost += 1;
      this.reporter.warn(
        "record leases lapsed during a write: a live write may have been overwritten; run reconcile --fix",
      );
    }
  }

  /** Records written or skipped so far for `kind`. */
  done(kind: ReadObjectKind): number {
    const counts = this.of(kind);
    const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
    return counts.created + counts.updated + sum(counts.skipped) + sum(counts.failed);
  }

  /** True when nothing failed and no lease lapsed. */
  isClean(): boolean {
    return (
      this.leaseLost === 0 &&
      [...this.kinds.values()].every((counts) => Object.keys(counts.failed).length === 0)
    );
  }

  /** Totals for the summary line, with records/s and Salesforce API calls. */
  async summary(metrics: Metrics, seconds: number): Promise<Record<string, unknown>> {
    const written = [...this.kinds.values()].reduce(
      (sum, counts) => sum + counts.created + counts.updated,
      0,
    );
    const rest = await restCalls(metrics);
    return {
      objects: Object.fromEntries(this.kinds),
      written,
      seconds: Math.round(seconds * 10) / 10,
      recordsPerSecond: Math.round(written / Math.max(seconds, 0.001)),
      salesforceApiCalls: rest + this.bulkCalls,
      bulkJobs: this.jobs.length,
      bulkApiCalls: this.bulkCalls,
      ...(this.leaseLost > 0 ? { leaseLost: this.leaseLost } : {}),
    };
  }
}

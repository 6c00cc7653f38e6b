import type { Logger } from "../../shared/logger.js";
import type { BulkWriter } from "./bulk-writer-port.js";
import type { WriteEntry } from "./compose-writes.js";
import { redactRecordValues } from "./describe-record-error.js";
import { outcomeOfError } from "./event-outcome.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { orgExternalIdField, toOrgRecord } from "./mapping.js";
import { writeEntries, type WriteContext } from "./write-records.js";

/** Parents first: the order of the objects' jobs. */
const OBJECT_ORDER: DefaultObjectName[] = [
  "Stripe_Customer__c",
  "Stripe_Subscription__c",
  "Payment_Transaction__c",
];

/** What bulk writing needs besides collections writing. */
export interface BulkWriteContext extends WriteContext {
  bulk: BulkWriter;
  log: Logger;
}

/** The jobs run and the parent stubs written on the way. */
export interface BulkWritten {
  jobs: { jobId: string; state: string; errorMessage?: string; apiCalls: number }[];
  /** Parent stubs written through collections as a fallback, with their results. */
  fallbackStubs: WriteEntry[];
}

/**
 * Writes entries through one Bulk API 2.0 upsert job per object, parents first: parent stubs go
 * first through collections (few, and the jobs' lookups need them); each job is fenced like a
 * collections call; rows the job left unprocessed or failed for a passing reason are written once
 * more through collections; every entry ends with a result.
 */
export async function writeBulkEntries(
  entries: readonly WriteEntry[],
  ctx: BulkWriteContext,
): Promise<BulkWritten> {
  const written: BulkWritten = { jobs: [], fallbackStubs: [] };
  const stubs = entries.filter((entry) => entry.plan === undefined);
  if (stubs.length > 0) written.fallbackStubs.push(...(await writeEntries(stubs, ctx)));
  const failedStubs = new Set(stubs.filter((stub) => stub.result !== "ok").map((stub) => stub.key));
  for (const object of OBJECT_ORDER) {
    const group = entries.filter((entry) => {
      if (entry.plan === undefined || entry.object !== object || entry.result !== undefined) return false;
      if (!entry.parents.some((key) => failedStubs.has(key))) return true;
      entry.result = { status: "retry", reason: "parent_not_written", scope: "record" };
      return false;
    });
    if (group.length === 0) continue;
    const externalIdField = orgExternalIdField(ctx.mapping, object);
    const records = group.map((entry) => toOrgRecord(ctx.mapping, object, entry.fields, entry.source));
    try {
      await ctx.fence(group.map((entry) => entry.key));
      const job = await ctx.bulk.bulkUpsert({
        objectName: ctx.mapping.objects[object].name,
        externalIdField,
        records,
      });
      written.jobs.push({
        jobId: job.jobId,
        state: job.state,
        apiCalls: job.apiCalls,
        ...(job.errorMessage ? { errorMessage: job.errorMessage } : {}),
      });
      if (job.state !== "JobComplete")
        ctx.log.warn("bulk job ended early; its unprocessed rows go through collections", {
          jobId: job.jobId,
          state: job.state,
          errorMessage: job.errorMessage,
        });
      const rows = new Map(job.rows.map((row) => [row.externalId, row]));
      const again: WriteEntry[] = [];
      group.forEach((entry, i) => {
        const row = rows.get(entry.plan?.externalId ?? "");
        if (row?.status === "written") entry.result = "ok";
        else if (row?.status === "failed" && !row.isRetryable) {
          const code = row.error?.statusCode ?? "UNKNOWN_ERROR";
          const message = redactRecordValues(row.error?.message ?? "", records[i]);
          entry.result = { status: "dead-letter", reason: code, detail: `${code}: ${message}` };
        } else again.push(entry);
      });
      if (again.length > 0) written.fallbackStubs.push(...(await writeEntries(again, ctx)));
    } catch (error) {
      const outcome = outcomeOfError(error);
      for (const entry of group) entry.result ??= outcome;
    }
  }
  return written;
}

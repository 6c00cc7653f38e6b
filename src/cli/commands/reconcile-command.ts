import type { Command } from "commander";
import { compareWithOrg, driftQuery, type RecordDrift } from "../../domain/sync/compare-records.js";
import {
  mapReadObject,
  OBJECT_OF_KIND,
  READ_OBJECT_KINDS,
  type ReadObjectKind,
} from "../../domain/sync/map-read-object.js";
import { orgExternalIdField } from "../../domain/sync/mapping.js";
import { secondsOfDateTime } from "../../domain/sync/org-record-states.js";
import { syncObjects, type ReadObject } from "../../domain/sync/sync-objects.js";
import type { CommandContext } from "../command-context.js";
import { objectKinds, stripeObjectPages } from "../object-pages.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";
import { objectSyncDeps } from "./backfill-command.js";
import { positiveInteger } from "./dlq-commands.js";
import { isoTime } from "./replay-command.js";
import { SyncTally } from "./sync-tally.js";

/** Options of `reconcile`. */
interface ReconcileOptions {
  objects: ReadObjectKind[];
  since?: number;
  fix?: boolean;
  examples: number;
}

/** Counts of one kind. */
interface KindDrift {
  stripe: number;
  org: number | null;
  inSync: number;
  missing: number;
  differing: number;
  /** Differing, but the org's record was written after Stripe was read: not drift, a newer write. */
  changedSinceRead: number;
  notWritten: number;
  fieldCounts: Record<string, number>;
  fixed: number;
  unfixed: number;
}

async function reconcile(
  context: CommandContext,
  reporter: Reporter,
  options: ReconcileOptions,
): Promise<boolean> {
  const stripe = context.stripe();
  const salesforce = context.salesforce();
  const mapping = context.mapping();
  const fixing = options.fix ? await objectSyncDeps(context) : undefined;
  if (fixing && !fixing.isShared)
    reporter.warn("no shared store (REDIS_URL): the running worker cannot see the fix's leases");
  const tally = new SyncTally(reporter);
  const startedAt = Date.now();
  const kinds: Partial<Record<ReadObjectKind, KindDrift>> = {};

  for (const kind of options.objects) {
    const object = OBJECT_OF_KIND[kind];
    const counts: KindDrift = {
      stripe: 0,
      org: null,
      inSync: 0,
      missing: 0,
      differing: 0,
      changedSinceRead: 0,
      notWritten: 0,
      fieldCounts: {},
      fixed: 0,
      unfixed: 0,
    };
    kinds[kind] = counts;
    const orgName = mapping.objects[object].name;
    counts.org = (await salesforce.query(`SELECT COUNT() FROM ${orgName}`)).totalSize;
    const lastAtField = mapping.objects[object].fields.Last_Stripe_Event_At__c as string;
    const externalIdField = orgExternalIdField(mapping, object);
    const progress = reporter.progress(`${kind} (${orgName})`, "records");
    let examples = 0;
    for await (const page of stripeObjectPages(stripe, kind, {
      ...(options.since === undefined ? {} : { since: options.since }),
      signal: context.signal,
    })) {
      counts.stripe += page.objects.length;
      const mapped = page.objects.flatMap((item) => {
        try {
          const result = mapReadObject(kind, item.object);
          if ("skip" in result) {
            counts.notWritten += 1;
            return [];
          }
          return [{ item, write: result.write }];
        } catch (error) {
          reporter.item(
            "unmappable",
            { kind, id: item.object.id, detail: (error as Error).message },
            `cannot map ${kind} ${String(item.object.id)}: ${(error as Error).message}`,
          );
          return [];
        }
      });
      const query = driftQuery(
        mapping,
        object,
        mapped.map(({ write }) => write.record.externalId),
      );
      query.fields.push(lastAtField);
      // One SOQL query per page of Stripe objects.
      const [records = []] = await salesforce.readRecords([query]);
      const byId = new Map(records.map((record) => [String(record[externalIdField]), record]));
      const drifted: ReadObject[] = [];
      for (const { item, write } of mapped) {
        const org = byId.get(write.record.externalId);
        const drift: RecordDrift | undefined = compareWithOrg(mapping, write, org);
        if (!drift) {
          counts.inSync += 1;
          continue;
        }
        const writtenAt = secondsOfDateTime(org?.[lastAtField]);
        if (drift.status === "differs" && writtenAt !== undefined && writtenAt > item.readAt) {
          counts.changedSinceRead += 1;
          continue;
        }
        drifted.push(item);
        if (drift.status === "missing") counts.missing += 1;
        else {
          counts.differing += 1;
          for (const field of drift.fields)
            counts.fieldCounts[field.field] = (counts.fieldCounts[field.field] ?? 0) + 1;
        }
        if (examples++ < options.examples) {
          const fields = drift.status === "differs" ? drift.fields : [];
          const human =
            drift.status === "missing"
              ? `missing  ${orgName} ${write.record.externalId}`
              : `differs  ${orgName} ${write.record.externalId}: ${fields.map((f) => `${f.field} org=${JSON.stringify(f.org)} stripe=${JSON.stringify(f.stripe)}`).join("; ")}`;
          reporter.item(
            "drift",
            { object: orgName, externalId: write.record.externalId, status: drift.status, fields },
            human,
          );
        }
      }
      if (fixing && drifted.length > 0) {
        const report = await syncObjects(drifted, fixing.deps, { via: "collections" });
        tally.add(report, "collections");
        for (const result of report.results) {
          const isRepaired =
            result.outcome.status === "written" ||
            (result.outcome.status === "skipped" && result.outcome.reason === "newer_in_org");
          counts[isRepaired ? "fixed" : "unfixed"] += 1;
        }
      }
      progress.update(counts.stripe);
    }
    progress.stop();
    if (context.signal.aborted) break;
  }
  const drift = Object.values(kinds).reduce((sum, counts) => sum + counts.missing + counts.differing, 0);
  const unfixed = Object.values(kinds).reduce((sum, counts) => sum + counts.unfixed, 0);
  const seconds = (Date.now() - startedAt) / 1000;
  reporter.summary({
    objects: kinds,
    drift,
    ...(options.fix
      ? { fixed: drift - unfixed, unfixed, ...(await tally.summary(context.metrics, seconds)) }
      : {}),
    seconds: Math.round(seconds * 10) / 10,
    stripeRequests: stripe.requests(),
    ...(context.signal.aborted ? { interrupted: true } : {}),
  });
  if (context.signal.aborted) return false;
  return options.fix ? unfixed === 0 && tally.isClean() : drift === 0;
}

/** `reconcile`: Stripe's current objects against the org's records, field by field; `--fix` repairs the drift. */
export function registerReconcileCommand(program: Command, run: OperationRunner): void {
  program
    .command("reconcile")
    .description(
      "compare Stripe's current objects with the org's records field by field through the mapping (one SOQL query per page of Stripe objects); exit 1 on drift, or with --fix repair it through the normal write path (exit 0 once all is repaired)",
    )
    .option("--objects <kinds>", `comma-separated (default ${READ_OBJECT_KINDS.join(",")})`, objectKinds, [
      ...READ_OBJECT_KINDS,
    ])
    .option("--since <time>", "only objects created at or after this ISO 8601 time", isoTime)
    .option("--fix", "write Stripe's current state to the drifted records (leased, newest wins)")
    .option("--examples <n>", "drifted records printed per object", positiveInteger, 5)
    .action((options: ReconcileOptions) =>
      run("reconcile", (context, reporter) => reconcile(context, reporter, options)),
    );
}

import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { OBJECT_OF_KIND, READ_OBJECT_KINDS, type ReadObjectKind } from "../../domain/sync/map-read-object.js";
import { syncObjects, type ObjectSyncDeps, type ReadObject } from "../../domain/sync/sync-objects.js";
import { sleep, systemClock } from "../../shared/clock.js";
import type { CommandContext } from "../command-context.js";
import { objectKinds, stripeObjectPages, type ListCursor } from "../object-pages.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";
import { isoTime } from "./replay-command.js";
import { SyncTally } from "./sync-tally.js";

/** Options of `backfill`. */
interface BackfillOptions {
  objects: ReadObjectKind[];
  since?: number;
  via: "auto" | "collections" | "bulk";
  restart?: boolean;
}

/** How far one kind got: the listing's cursor after the last batch written, or done. */
interface BackfillCheckpoint {
  cursor?: ListCursor;
  isDone?: boolean;
}

/** The use case's collaborators from the command's clients. */
export async function objectSyncDeps(
  context: CommandContext,
): Promise<{ deps: ObjectSyncDeps; isShared: boolean }> {
  const salesforce = context.salesforce();
  const { store, isShared } = await context.store();
  return {
    isShared,
    deps: {
      writer: salesforce,
      reader: salesforce,
      bulk: context.bulk(),
      store,
      mapping: context.mapping(),
      metrics: context.metrics,
      clock: systemClock,
      log: context.logger,
    },
  };
}

/**
 * Records written together through collections: five requests of 200, one Composite call, with their
 * states read in one Composite call of queries too; also how far a checkpoint may lag behind.
 */
const COLLECTIONS_BATCH = 1000;

/** Seconds to wait before trying records again that a live write held. */
const BUSY_RETRY_DELAY_MS = 2000;

async function backfill(
  context: CommandContext,
  reporter: Reporter,
  options: BackfillOptions,
): Promise<boolean> {
  const stripe = context.stripe();
  const { deps, isShared } = await objectSyncDeps(context);
  if (!isShared)
    reporter.warn(
      "no shared store (REDIS_URL): the running worker cannot see this backfill's leases; a live write racing it is not held off",
    );
  const checkpoints = await context.checkpoints();
  const { bulkThreshold, bulkJobRecords } = context.config.cli;
  const tally = new SyncTally(reporter);
  const startedAt = Date.now();

  for (const kind of options.objects) {
    const name = `backfill:${stripe.mode}:${kind}:${options.since ?? "all"}`;
    if (options.restart) await checkpoints.clear(name);
    const saved = (await checkpoints.get<BackfillCheckpoint>(name)) ?? {};
    if (saved.isDone) {
      reporter.info(`${kind}: done in an earlier run (--restart to do it again)`);
      continue;
    }
    if (saved.cursor)
      reporter.info(`${kind}: resuming after ${saved.cursor.id} (checkpoint in ${checkpoints.where})`);
    const progress = reporter.progress(`${kind} (${OBJECT_OF_KIND[kind]})`, "records");
    let via: "collections" | "bulk" | undefined = options.via === "auto" ? undefined : options.via;
    let buffer: ReadObject[] = [];
    let bufferCursor: ListCursor | undefined;

    /** Writes what is buffered (jobs of at most BACKFILL_BULK_JOB_RECORDS), then moves the checkpoint past it. */
    const flush = async (how: "collections" | "bulk") => {
      while (buffer.length > 0) {
        const batch = buffer.slice(0, how === "bulk" ? bulkJobRecords : buffer.length);
        buffer = buffer.slice(batch.length);
        await write(batch, how);
      }
      await checkpoints.set(name, { cursor: bufferCursor } satisfies BackfillCheckpoint);
      progress.update(tally.done(kind));
    };
    /** One batch (one Bulk API 2.0 job per object, or collections calls); records a live write held are tried once more. */
    const write = async (batch: ReadObject[], how: "collections" | "bulk") => {
      const report = await syncObjects(batch, deps, { via: how });
      const busy = report.results.filter(
        (result) => result.outcome.status === "skipped" && result.outcome.reason === "busy",
      );
      tally.add(report, how, busy.length);
      if (busy.length > 0) {
        await sleep(systemClock, BUSY_RETRY_DELAY_MS);
        const ids = new Set(busy.map((result) => result.externalId));
        tally.add(
          await syncObjects(
            batch.filter((item) => ids.has(String(item.object.id))),
            deps,
            { via: "collections" },
          ),
          "collections",
        );
      }
    };

    const pages = stripeObjectPages(stripe, kind, {
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(saved.cursor ? { after: saved.cursor } : {}),
      signal: context.signal,
    });
    for await (const page of pages) {
      buffer.push(...page.objects);
      bufferCursor = page.cursor;
      tally.listed(kind, page.objects.length);
      if (via === undefined && buffer.length > bulkThreshold) {
        via = "bulk";
        reporter.info(
          `${kind}: more than ${bulkThreshold} records: writing through Bulk API 2.0 jobs of up to ${bulkJobRecords}`,
        );
      }
      if (via === "collections" && buffer.length >= COLLECTIONS_BATCH) await flush("collections");
      else if (via === "bulk" && buffer.length >= bulkJobRecords) await flush("bulk");
    }
    if (context.signal.aborted) {
      progress.stop();
      break;
    }
    await flush(via ?? "collections");
    await checkpoints.set(name, { isDone: true } satisfies BackfillCheckpoint);
    progress.stop();
  }
  const isInterrupted = context.signal.aborted;
  if (!isInterrupted)
    for (const kind of options.objects)
      await checkpoints.clear(`backfill:${stripe.mode}:${kind}:${options.since ?? "all"}`);
  const seconds = (Date.now() - startedAt) / 1000;
  reporter.summary({
    ...(await tally.summary(context.metrics, seconds)),
    stripeRequests: stripe.requests(),
    ...(isInterrupted ? { interrupted: true, resume: "run the same command again" } : {}),
  });
  return !isInterrupted && tally.isClean();
}

function viaOption(value: string): "auto" | "collections" | "bulk" {
  if (value !== "auto" && value !== "collections" && value !== "bulk")
    throw new InvalidArgumentError("must be auto, collections or bulk");
  return value;
}

/** `backfill`: Stripe's current objects written to the org, parents first, by the contract's rules for objects read without an event. */
export function registerBackfillCommand(program: Command, run: OperationRunner): void {
  program
    .command("backfill")
    .description(
      "write Stripe's current customers, subscriptions (canceled too) and payment intents to Salesforce, parents first, with the same mapping and newest-wins rules; checkpointed and resumable",
    )
    .option(
      "--objects <kinds>",
      `comma-separated, written parents first (default ${READ_OBJECT_KINDS.join(",")})`,
      objectKinds,
      [...READ_OBJECT_KINDS],
    )
    .option("--since <time>", "only objects created at or after this ISO 8601 time", isoTime)
    .option(
      "--via <how>",
      "auto: Bulk API 2.0 once an object has more than BACKFILL_BULK_THRESHOLD (2000) records, else collections; or force collections or bulk",
      viaOption,
      "auto",
    )
    .option("--restart", "ignore the checkpoints of an interrupted run")
    .action((options: BackfillOptions) =>
      run("backfill", (context, reporter) => backfill(context, reporter, options)),
    );
}

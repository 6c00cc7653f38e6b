import { createHash } from "node:crypto";
import { InvalidArgumentError, type Command } from "commander";
import type { StripeLists } from "../../data-access/stripe/stripe-lists.js";
import { enqueueEvent } from "../../domain/ingest/enqueue-event.js";
import { HANDLED_EVENT_TYPES } from "../../domain/sync/event-handlers.js";
import type { StripeObject } from "../../domain/sync/stripe-port.js";
import { UsageError, type CommandContext } from "../command-context.js";
import { buildEventQueue } from "../../roles/build-webhook.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";

/** Stripe's Events API keeps 30 days. */
const EVENT_RETENTION_SECONDS = 30 * 86400;
/** Stripe takes at most 20 `types[]`. */
const MAX_TYPES = 20;

/** Options of `replay`. */
export interface ReplayOptions {
  since: number;
  until?: number;
  types?: string[];
  onlyUndelivered?: boolean;
  dryRun?: boolean;
  restart?: boolean;
}

/** Where an interrupted replay goes on: the newest event already enqueued. */
interface ReplayCheckpoint {
  cursor: string;
  enqueued: number;
}

/** An ISO 8601 time as unix seconds. */
export function isoTime(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError("must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z");
  return Math.floor(ms / 1000);
}

function typeList(value: string): string[] {
  const types = value
    .split(",")
    .map((type) => type.trim())
    .filter(Boolean);
  if (types.length === 0 || types.length > MAX_TYPES)
    throw new InvalidArgumentError(`give 1 to ${MAX_TYPES} types`);
  return types;
}

/** Stripe's filters for the run: the window, the types (the handled ones by default), undelivered only. */
function filtersOf(options: ReplayOptions): Record<string, unknown> {
  return {
    limit: 100,
    created: { gte: options.since, ...(options.until === undefined ? {} : { lte: options.until }) },
    types: options.types ?? [...HANDLED_EVENT_TYPES],
    ...(options.onlyUndelivered ? { delivery_success: false } : {}),
  };
}

/** The oldest event of the window: Stripe lists newest first, so the first pass pages to the end. */
async function findOldest(
  stripe: StripeLists,
  filters: Record<string, unknown>,
  signal: AbortSignal,
): Promise<StripeObject | undefined> {
  let oldest: StripeObject | undefined;
  for (;;) {
    if (signal.aborted) return undefined;
    const page = await stripe.page("events", {
      ...filters,
      ...(oldest ? { starting_after: oldest.id } : {}),
    });
    oldest = page.data.at(-1) ?? oldest;
    if (!page.hasMore) return oldest;
  }
}

async function replay(context: CommandContext, reporter: Reporter, options: ReplayOptions): Promise<boolean> {
  const stripe = context.stripe();
  const { sqs, queueUrl } = context.queue();
  const unhandled = (options.types ?? []).filter(
    (type) => !HANDLED_EVENT_TYPES.has(type) && !type.includes("*"),
  );
  if (unhandled.length > 0)
    throw new UsageError(`not handled by the service (nothing to replay): ${unhandled.join(", ")}`);
  if (options.since < Math.floor(Date.now() / 1000) - EVENT_RETENTION_SECONDS)
    reporter.warn(
      "Stripe's Events API keeps 30 days: events older than that cannot be replayed (use backfill)",
    );
  const filters = filtersOf(options);
  const checkpoints = context.queueCheckpoints();
  const name = `replay:${stripe.mode}:${createHash("sha256")
    .update(JSON.stringify([filters, queueUrl]))
    .digest("hex")
    .slice(0, 16)}`;
  if (options.restart) await checkpoints.clear(name);
  const saved = options.dryRun ? undefined : await checkpoints.get<ReplayCheckpoint>(name);
  const queue = buildEventQueue({ sqs, queueUrl, metrics: context.metrics, windowMs: 5 });
  const byType: Record<string, number> = {};
  let enqueued = saved?.enqueued ?? 0;
  let listed = 0;
  const startedAt = Date.now();
  const progress = reporter.progress(options.dryRun ? "replay (dry run)" : "replay", "events");
  if (saved)
    reporter.info(
      `resuming after ${saved.cursor} (${saved.enqueued} events enqueued before), checkpoint in ${checkpoints.where}`,
    );

  /** Enqueues events oldest first, as the webhook would: the whole event, ids as attributes. */
  const enqueue = async (events: StripeObject[]) => {
    listed += events.length;
    if (!options.dryRun)
      await Promise.all(
        events.map((event) => {
          const json = JSON.stringify(event);
          return enqueueEvent(
            { queue, canSlimEvents: true },
            Buffer.from(json),
            json,
            `replay-${String(event.id)}`,
          );
        }),
      );
    for (const event of events) byType[String(event.type)] = (byType[String(event.type)] ?? 0) + 1;
    enqueued += events.length;
    progress.update(enqueued);
  };

  let cursor: string | undefined = saved?.cursor;
  if (cursor === undefined) {
    const oldest = await findOldest(stripe, filters, context.signal);
    if (oldest) {
      await enqueue([oldest]);
      cursor = String(oldest.id);
      if (!options.dryRun) await checkpoints.set(name, { cursor, enqueued } satisfies ReplayCheckpoint);
    }
  }
  while (cursor !== undefined && !context.signal.aborted) {
    const page = await stripe.page("events", { ...filters, ending_before: cursor });
    if (page.data.length === 0) break;
    await enqueue([...page.data].reverse());
    const newest: string = page.data[0] ? String(page.data[0].id) : cursor;
    cursor = newest;
    if (!options.dryRun) await checkpoints.set(name, { cursor: newest, enqueued } satisfies ReplayCheckpoint);
    if (!page.hasMore) break;
  }
  progress.stop();
  const isDone = !context.signal.aborted;
  if (isDone && !options.dryRun) await checkpoints.clear(name);
  const seconds = (Date.now() - startedAt) / 1000;
  reporter.summary({
    [options.dryRun ? "wouldEnqueue" : "enqueued"]: options.dryRun ? listed : enqueued,
    byType,
    stripeRequests: stripe.requests(),
    seconds: Math.round(seconds * 10) / 10,
    eventsPerSecond: Math.round(listed / Math.max(seconds, 0.001)),
    ...(isDone ? {} : { interrupted: true, resume: "run the same command again" }),
  });
  return isDone;
}

/** `replay`: Stripe's Events API put back on the queue, as webhooks would have. */
export function registerReplayCommand(program: Command, run: OperationRunner): void {
  program
    .command("replay")
    .description(
      "put events from Stripe's Events API (30 days) on the queue exactly as a webhook would, oldest first; resumable, and safe to run twice (applied events cost nothing)",
    )
    .requiredOption("--since <time>", "ISO 8601 time of the oldest event", isoTime)
    .option("--until <time>", "ISO 8601 time of the newest event (default: now)", isoTime)
    .option(
      "--types <types>",
      "comma-separated event types, at most 20 (default: every handled type)",
      typeList,
    )
    .option(
      "--only-undelivered",
      "only events whose webhook delivery has not succeeded (delivery_success=false)",
    )
    .option("--dry-run", "list what would be enqueued, enqueue nothing")
    .option("--restart", "ignore the checkpoint of an interrupted run")
    .action((options: ReplayOptions) =>
      run("replay", (context, reporter) => replay(context, reporter, options)),
    );
}

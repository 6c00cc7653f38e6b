import type { Command } from "commander";
import { soqlString } from "../../data-access/salesforce/soql-by-external-ids.js";
import {
  describeDeadLetter,
  releaseMessages,
  scanQueue,
  type DeadLetter,
} from "../../data-access/sqs/dead-letter-queue.js";
import { isEventBridgeEnvelope, readEnvelope } from "../../domain/ingest/eventbridge-envelope.js";
import { isStripeEvent, type StripeEvent } from "../../domain/stripe-event.js";
import { driftQuery } from "../../domain/sync/compare-records.js";
import { handlerFor } from "../../domain/sync/event-handlers.js";
import type { DefaultObjectName } from "../../domain/sync/mapped-record.js";
import { orgExternalIdField } from "../../domain/sync/mapping.js";
import { secondsOfDateTime } from "../../domain/sync/org-record-states.js";
import { recordKey } from "../../domain/sync/sync-store-port.js";
import { UsageError, type CommandContext } from "../command-context.js";
import type { Reporter } from "../reporter.js";
import type { OperationRunner } from "../run-cli.js";

const OBJECTS: DefaultObjectName[] = [
  "Stripe_Customer__c",
  "Stripe_Subscription__c",
  "Payment_Transaction__c",
];

/** Runs `read`, turning a missing setting into a note instead of a failure. */
async function optional<T>(read: () => Promise<T>, notes: string[], what: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    notes.push(
      `${what}: ${error instanceof UsageError ? "not configured" : "failed"}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

/** Finds the event among the dead letters. */
async function findDeadLetter(context: CommandContext, eventId: string): Promise<DeadLetter | undefined> {
  const { sqs } = context.queue();
  const dlqUrl = await context.dlqUrl();
  let found: DeadLetter | undefined;
  const seen = await scanQueue(sqs, dlqUrl, {
    holdSeconds: 30,
    signal: context.signal,
    onBatch: async (messages) => {
      found = messages.map(describeDeadLetter).find((letter) => letter.eventId === eventId);
      return found === undefined;
    },
  });
  await releaseMessages(sqs, dlqUrl, seen);
  return found;
}

async function trace(context: CommandContext, reporter: Reporter, eventId: string): Promise<boolean> {
  const notes: string[] = [];
  const mapping = context.mapping();
  const fromStripe = context.hasStripeKey()
    ? await optional(() => context.stripe().retrieveEvent(eventId), notes, "stripe")
    : undefined;
  if (!context.hasStripeKey()) notes.push("stripe: no STRIPE_API_KEY, the event itself is not read");
  const deadLetter = await optional(() => findDeadLetter(context, eventId), notes, "dead-letter queue");
  let event: StripeEvent | undefined = isStripeEvent(fromStripe) ? fromStripe : undefined;
  if (!event && deadLetter) {
    const body = JSON.parse(deadLetter.message.Body ?? "null") as unknown;
    // A dead-lettered EventBridge message is the whole envelope: its event is the detail.
    const inner = isEventBridgeEnvelope(body) ? readEnvelope(body).detail : body;
    if (isStripeEvent(inner)) event = inner;
  }
  // The records the event writes (and its parent), else those whose last event it is.
  const keys = new Map<DefaultObjectName, Set<string>>(OBJECTS.map((object) => [object, new Set()]));
  const handler = event ? handlerFor(event.type) : undefined;
  if (event && handler) {
    try {
      const write = handler.map(event.data.object, event);
      if (write) keys.get(write.record.object)?.add(write.record.externalId);
      if (write?.record.customerId) keys.get("Stripe_Customer__c")?.add(write.record.customerId);
    } catch (error) {
      notes.push(`the event does not map: ${(error as Error).message}`);
    }
  }
  const salesforce = await optional(async () => context.salesforce(), notes, "salesforce");
  const records: Record<string, unknown>[] = [];
  const recordKeys: string[] = [];
  if (salesforce) {
    for (const object of OBJECTS) {
      const { name, fields } = mapping.objects[object];
      const externalIdField = orgExternalIdField(mapping, object);
      if (!event) {
        const soql = `SELECT ${externalIdField} FROM ${name} WHERE ${fields.Last_Stripe_Event_Id__c} = ${soqlString(eventId)}`;
        const found = await salesforce.query(soql);
        for (const record of found.records) keys.get(object)?.add(String(record[externalIdField]));
      }
      const ids = [...(keys.get(object) ?? [])];
      if (ids.length === 0) continue;
      const [found = []] = await salesforce.readRecords([driftQuery(mapping, object, ids)]);
      for (const id of ids) {
        const record = found.find((r) => r[externalIdField] === id);
        recordKeys.push(recordKey(object, id));
        records.push({
          object: name,
          externalId: id,
          exists: record !== undefined,
          ...(record ? { fields: record } : {}),
          lastEventId: record?.[fields.Last_Stripe_Event_Id__c ?? ""] ?? null,
          lastEventAt: record?.[fields.Last_Stripe_Event_At__c ?? ""] ?? null,
        });
      }
    }
  }
  const stored = await optional(
    async () => {
      if (!context.redis()) return undefined;
      const { store } = await context.store();
      const applied = await store.findAppliedEvents([eventId]);
      const states = await store.getRecordStates(recordKeys);
      return { applied: applied.has(eventId), states: Object.fromEntries(states) };
    },
    notes,
    "store",
  );
  if (!context.redis())
    notes.push(
      context.config.isLocal
        ? "store: local mode keeps it in the worker's memory (set REDIS_URL on both to read it here)"
        : "store: REDIS_URL not set",
    );

  const isLast = records.some((record) => record.lastEventId === eventId);
  const newer = records.find(
    (record) =>
      event && (secondsOfDateTime(record.lastEventAt) ?? 0) > event.created && record.lastEventId !== eventId,
  );
  const verdict = isLast
    ? "applied: a record's Last_Stripe_Event_Id__c is this event"
    : stored?.applied
      ? "applied: the store remembers it (a newer event or read has moved the record on since)"
      : deadLetter
        ? `dead-lettered: ${deadLetter.reason}${deadLetter.detail ? ` (${deadLetter.detail})` : ""}`
        : newer
          ? `superseded: ${String(newer.object)} ${String(newer.externalId)} holds a newer write (${String(newer.lastEventId)} at ${String(newer.lastEventAt)})`
          : event
            ? "not applied: not in the org, the store or the dead-letter queue; it may still be on the queue, or was never delivered (replay it)"
            : "unknown: Stripe, the dead-letter queue and the org know no such event";
  const summary = {
    eventId,
    verdict,
    ...(event
      ? {
          event: {
            type: event.type,
            created: new Date(event.created * 1000).toISOString(),
            objectId: event.data.object.id,
            account: (event as { account?: unknown }).account ?? null,
            source: isStripeEvent(fromStripe) ? "stripe" : "dead-letter queue",
          },
        }
      : {}),
    ...(deadLetter
      ? {
          deadLetter: {
            messageId: deadLetter.messageId,
            reason: deadLetter.reason,
            detail: deadLetter.detail,
            receiveCount: deadLetter.receiveCount,
            sentAt: deadLetter.sentAt,
          },
        }
      : {}),
    ...(stored ? { store: stored } : {}),
    notes,
  };
  for (const record of records)
    reporter.item(
      "record",
      record,
      `${String(record.object)} ${String(record.externalId)}: ${record.exists ? `last event ${String(record.lastEventId)} at ${String(record.lastEventAt)}\n    ${JSON.stringify(record.fields)}` : "not in the org"}`,
    );
  reporter.summary(summary);
  return event !== undefined || records.length > 0;
}

/** `trace <event id>`: what the service knows about one event. */
export function registerTraceCommand(program: Command, run: OperationRunner): void {
  program
    .command("trace")
    .description(
      "what the service knows about one event: applied or not (store and the records' Last_Stripe_Event_Id__c), the records it touched with their current values, whether it is a dead letter and why, and (with a Stripe key) the event itself",
    )
    .argument("<event id>", "evt_...")
    .action((eventId: string) => run("trace", (context, reporter) => trace(context, reporter, eventId)));
}

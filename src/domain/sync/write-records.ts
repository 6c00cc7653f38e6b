import { outcomeOfError, type FailureOutcome } from "./event-outcome.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { orgExternalIdField, toOrgRecord, type Mapping } from "./mapping.js";
import type { SalesforceWriter, UpsertRecordResult } from "./salesforce-port.js";
import type { WriteEntry } from "./compose-writes.js";

/** Children are written after their parents, in one call per object; these two go in parallel. */
const CHILD_OBJECTS: DefaultObjectName[] = ["Stripe_Subscription__c", "Payment_Transaction__c"];

/** The failure of one record in a collections answer. */
export function failureOfRecord(result: UpsertRecordResult | undefined): FailureOutcome {
  const error = result?.errors[0];
  const code = error?.statusCode ?? "UNKNOWN_ERROR";
  const message = error?.message ?? "Salesforce gave no result for the record";
  if (!result || result.isRetryable) return { status: "retry", reason: code };
  return { status: "dead-letter", reason: code, detail: `${code}: ${message}` };
}

/** Upserts one object's entries in one collections call and sets each entry's result. */
async function upsertEntries(
  object: DefaultObjectName,
  entries: readonly WriteEntry[],
  writer: SalesforceWriter,
  mapping: Mapping,
): Promise<void> {
  if (entries.length === 0) return;
  const records = entries.map((entry) => toOrgRecord(mapping, object, entry.fields, entry.source));
  let results: UpsertRecordResult[];
  try {
    results = await writer.upsert(mapping.objects[object].name, orgExternalIdField(mapping, object), records);
  } catch (error) {
    const outcome = outcomeOfError(error);
    for (const entry of entries) entry.result = outcome;
    return;
  }
  entries.forEach((entry, i) => {
    const result = results[i];
    entry.result = result?.success ? "ok" : failureOfRecord(result);
  });
}

/** What a child gets when a parent it needs did not land. */
function parentFailure(key: string, result: FailureOutcome | undefined): FailureOutcome {
  if (result === undefined) return { status: "retry", reason: "parent_not_written" };
  if (result.status === "retry") return result;
  return { ...result, detail: `parent ${key}: ${result.detail}` };
}

/**
 * Writes parents first, then the children whose parents landed, one upsert call per object; sets
 * `result` on every entry that had none (entries marked busy before keep theirs). `fence` runs
 * before each round of calls with the keys about to be written, and throws to stop the batch.
 */
export async function writeParentsFirst(
  entries: readonly WriteEntry[],
  writer: SalesforceWriter,
  mapping: Mapping,
  fence: (keys: string[]) => Promise<void>,
): Promise<void> {
  const pending = entries.filter((entry) => entry.result === undefined);
  const customers = pending.filter((entry) => entry.object === "Stripe_Customer__c");
  if (customers.length > 0) {
    await fence(customers.map((entry) => entry.key));
    await upsertEntries("Stripe_Customer__c", customers, writer, mapping);
  }
  const parentResults = new Map(customers.map((entry) => [entry.key, entry.result]));
  const ready = new Map<DefaultObjectName, WriteEntry[]>(CHILD_OBJECTS.map((object) => [object, []]));
  for (const entry of pending) {
    const batch = ready.get(entry.object);
    if (!batch) continue;
    const failed = entry.parents.find((key) => parentResults.get(key) !== "ok");
    if (failed === undefined) batch.push(entry);
    else entry.result = parentFailure(failed, parentResults.get(failed) as FailureOutcome | undefined);
  }
  const children = [...ready.values()].flat();
  if (children.length === 0) return;
  await fence(children.map((entry) => entry.key));
  await Promise.all([...ready].map(([object, batch]) => upsertEntries(object, batch, writer, mapping)));
}

import { PermanentSyncError } from "../../shared/errors.js";
import type { Metrics } from "../../shared/metrics.js";
import { parentStub, type WriteEntry } from "./compose-writes.js";
import { failureOfRecord, redactRecordValues } from "./describe-record-error.js";
import { outcomeOfError, type FailureOutcome } from "./event-outcome.js";
import type { DefaultObjectName } from "./mapped-record.js";
import { orgExternalIdField, toOrgRecord, type Mapping } from "./mapping.js";
import type { SalesforceWriter, UpsertAnswer, UpsertRequest } from "./salesforce-port.js";
import type { RecordState } from "./sync-store-port.js";

/** Parents first: the order of objects in a write. */
const OBJECT_ORDER: DefaultObjectName[] = [
  "Stripe_Customer__c",
  "Stripe_Subscription__c",
  "Payment_Transaction__c",
];
/** Records per sObject Collections request. */
const MAX_RECORDS_PER_REQUEST = 200;
/** Extra API calls one batch may spend finding the record a whole request was refused for. */
export const DEFAULT_ISOLATION_BUDGET = 12;
/** Requests one Composite call carries (Salesforce allows 5 collections subrequests per call). */
const REQUESTS_PER_CALL = 5;

/** What writing needs besides the entries. */
export interface WriteContext {
  writer: SalesforceWriter;
  mapping: Mapping;
  metrics: Metrics;
  /** States of the batch's records: whether the org has a parent. */
  states: ReadonlyMap<string, RecordState>;
  /** Runs before each call with the keys about to be written; throws to stop the batch (a lost lease). */
  fence(keys: string[]): Promise<void>;
  /** Most extra calls spent isolating bad records (default DEFAULT_ISOLATION_BUDGET). */
  isolationBudget?: number;
}

/** Splits entries into requests: by object, parents first, at most 200 records each. */
function groupsOf(entries: readonly WriteEntry[]): WriteEntry[][] {
  const groups: WriteEntry[][] = [];
  for (const object of OBJECT_ORDER) {
    const ofObject = entries.filter((entry) => entry.object === object);
    for (let i = 0; i < ofObject.length; i += MAX_RECORDS_PER_REQUEST)
      groups.push(ofObject.slice(i, i + MAX_RECORDS_PER_REQUEST));
  }
  return groups;
}

/**
 * Sends groups of entries (one request each) and sets each entry's result. A request refused as
 * a whole for a reason that may be one record's (a 4xx that is not the org's) is split in halves,
 * then halves again, until the bad record is found, within the isolation budget; the halves of a
 * round ride in one call.
 */
async function sendGroups(
  groups: WriteEntry[][],
  ctx: WriteContext,
  budget: { left: number },
): Promise<void> {
  if (groups.length === 0) return;
  const { mapping } = ctx;
  const requests: UpsertRequest[] = groups.map((group) => {
    const object = (group[0] as WriteEntry).object;
    return {
      objectName: mapping.objects[object].name,
      externalIdField: orgExternalIdField(mapping, object),
      records: group.map((entry) => toOrgRecord(mapping, object, entry.fields, entry.source)),
    };
  });
  await ctx.fence(groups.flat().map((entry) => entry.key));
  let answers: UpsertAnswer[];
  try {
    answers = await ctx.writer.upsertMany(requests);
  } catch (error) {
    // Refused as a whole for a reason a record may have: every request is narrowed down alike.
    if (error instanceof PermanentSyncError) answers = requests.map(() => ({ error }));
    else {
      const outcome = outcomeOfError(error);
      for (const entry of groups.flat()) entry.result = outcome;
      return;
    }
  }
  const toSplit: WriteEntry[][] = [];
  groups.forEach((group, g) => {
    const answer = answers[g];
    const records = (requests[g] as UpsertRequest).records;
    if (answer && "results" in answer) {
      group.forEach((entry, i) => {
        const result = answer.results[i];
        entry.result = result?.success ? "ok" : failureOfRecord(result, records[i]);
      });
      return;
    }
    const error = answer?.error ?? new Error("Salesforce gave no answer for the request");
    if (!(error instanceof PermanentSyncError)) {
      const outcome = outcomeOfError(error);
      for (const entry of group) entry.result = outcome;
    } else if (group.length === 1) {
      const entry = group[0] as WriteEntry;
      entry.result = {
        status: "dead-letter",
        reason: error.code,
        detail: `${error.code}: ${redactRecordValues(error.message, records[0])}`,
      };
    } else if (budget.left > 0) {
      toSplit.push(group);
    } else {
      for (const entry of group)
        entry.result = {
          status: "retry",
          reason: "isolation_budget_spent",
          scope: "record",
          detail: error.code,
        };
    }
  });
  if (toSplit.length === 0) return;
  const halves = toSplit.flatMap((group) => {
    const middle = Math.ceil(group.length / 2);
    return [group.slice(0, middle), group.slice(middle)];
  });
  const calls = Math.ceil(halves.length / REQUESTS_PER_CALL);
  budget.left -= calls;
  ctx.metrics.salesforceIsolationCalls.inc(calls);
  await sendGroups(halves, ctx, budget);
}

/**
 * Writes the entries without a result yet, parents first, in as few calls as the writer can.
 * Parents never sink children: a child whose new parent was refused for good (the parent's own
 * data) is written again after a parent stub (id and Name) lands, and a child whose parent failed
 * for now is retried with it, never dead-lettered for it. Returns the fallback stubs it wrote
 * (their results set), for the store to learn about.
 */
export async function writeEntries(entries: readonly WriteEntry[], ctx: WriteContext): Promise<WriteEntry[]> {
  const budget = { left: ctx.isolationBudget ?? DEFAULT_ISOLATION_BUDGET };
  const pending = entries.filter((entry) => entry.result === undefined);
  await sendGroups(groupsOf(pending), ctx, budget);

  const byKey = new Map(pending.map((entry) => [entry.key, entry]));
  const orphans: WriteEntry[] = [];
  const stubs = new Map<string, WriteEntry>();
  for (const child of pending) {
    if (child.result === "ok" || child.result === undefined || child.object === "Stripe_Customer__c")
      continue;
    const failedParent = child.parents
      .map((key) => byKey.get(key))
      .find((parent) => parent !== undefined && parent.result !== "ok");
    if (!failedParent) continue;
    const parentResult = failedParent.result as FailureOutcome;
    if (parentResult.status === "retry" || failedParent.plan === undefined) {
      // A parent failing for now, or a stub refused: the child waits for it, it is not its fault.
      if (parentResult.status !== "retry") {
        child.result = { status: "retry", reason: "parent_not_written", scope: "record" };
        continue;
      }
      child.result = { ...parentResult, reason: `parent_${parentResult.reason}` };
    } else if (!ctx.states.get(failedParent.key)?.exists) {
      orphans.push(child);
      stubs.set(failedParent.key, parentStub(failedParent.key, child));
    }
  }
  if (orphans.length === 0) return [];
  for (const child of orphans) delete child.result;
  const stubEntries = [...stubs.values()];
  await sendGroups(groupsOf([...stubEntries, ...orphans]), ctx, budget);
  const stubResults = new Map(stubEntries.map((stub) => [stub.key, stub.result]));
  for (const child of orphans) {
    const stubFailed = child.parents.some((key) => stubs.has(key) && stubResults.get(key) !== "ok");
    if (stubFailed) child.result = { status: "retry", reason: "parent_not_written", scope: "record" };
  }
  return stubEntries;
}

import type { Answer, EmulatorState } from "./emulator-state.js";
import { resolveRoute } from "./data-routes.js";
import { RequestError } from "./validate-record.js";

/** At most 25 subrequests in one composite request, at most 5 of them collections or queries. */
export const MAX_SUBREQUESTS = 25;
/** At most 5 subrequests of one composite request may be sObject Collections or query requests. */
export const MAX_COLLECTION_OR_QUERY_SUBREQUESTS = 5;

const REFERENCE_ID = /^[A-Za-z0-9_]+$/;
const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;
const WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"];
const ROLLED_BACK = {
  errorCode: "PROCESSING_HALTED",
  message: "The transaction was rolled back since another operation in the same transaction failed.",
};

interface Subrequest {
  method: string;
  url: string;
  referenceId: string;
  body?: unknown;
}

/** One subrequest's answer in `compositeResponse`. */
export interface SubrequestResult {
  body: unknown;
  httpHeaders: Record<string, string>;
  httpStatusCode: number;
  referenceId: string;
}

/** Reads the composite body; throws a whole-call 400 for what Salesforce refuses before running anything. */
export function readCompositeRequest(input: unknown): { allOrNone: boolean; subrequests: Subrequest[] } {
  const body = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const list = body.compositeRequest;
  if (!Array.isArray(list) || list.length === 0)
    throw new RequestError(
      "JSON_PARSER_ERROR",
      "compositeRequest: expected a non-empty array of subrequests",
    );
  if (list.length > MAX_SUBREQUESTS)
    throw new RequestError(
      "LIMIT_EXCEEDED",
      `A composite request can have at most ${MAX_SUBREQUESTS} subrequests`,
    );
  const seen = new Set<string>();
  const subrequests = list.map((raw: unknown): Subrequest => {
    const sub = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
    const { method, url, referenceId } = sub;
    if (typeof method !== "string" || !["GET", ...WRITE_METHODS].includes(method))
      throw new RequestError("INVALID_INPUT", `Invalid method: ${String(method)}`);
    if (typeof url !== "string" || !url.startsWith("/services/data/"))
      throw new RequestError("INVALID_INPUT", `Invalid url: ${String(url)}`);
    if (typeof referenceId !== "string" || !REFERENCE_ID.test(referenceId))
      throw new RequestError("INVALID_INPUT", `Invalid referenceId: ${String(referenceId)}`);
    if (seen.has(referenceId))
      throw new RequestError("INVALID_INPUT", `Duplicate referenceId: ${referenceId}`);
    seen.add(referenceId);
    return { method, url, referenceId, ...(sub.body === undefined ? {} : { body: sub.body }) };
  });
  const heavy = subrequests.filter((s) =>
    /\/(composite\/sobjects|query|queryAll)(\/|\?|$)/.test(s.url),
  ).length;
  if (heavy > MAX_COLLECTION_OR_QUERY_SUBREQUESTS)
    throw new RequestError(
      "LIMIT_EXCEEDED",
      `A composite request can have at most ${MAX_COLLECTION_OR_QUERY_SUBREQUESTS} sObject Collections or query subrequests`,
    );
  return { allOrNone: body.allOrNone === true, subrequests };
}

/** True when any subrequest writes, for faults that only apply to writes. */
export function hasWriteSubrequest(input: unknown): boolean {
  const list = (input as { compositeRequest?: unknown } | null)?.compositeRequest;
  return (
    Array.isArray(list) && list.some((s) => WRITE_METHODS.includes((s as { method?: string })?.method ?? ""))
  );
}

function readPath(value: unknown, path: string): unknown {
  const steps = path.match(/[A-Za-z0-9_]+|\[\d+\]/g) ?? [];
  let current = value;
  for (const step of steps) {
    if (current === null || typeof current !== "object") return undefined;
    const key = step.startsWith("[") ? Number(step.slice(1, -1)) : step;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Replaces `@{ref.path}` in strings; throws the reference text when a reference has no value. */
function substitute(value: unknown, outputs: Map<string, unknown>): unknown {
  if (typeof value === "string") {
    return value.replace(REFERENCE, (_whole, ref: string, path: string) => {
      const found = outputs.has(ref) ? readPath(outputs.get(ref), path) : undefined;
      if (found === undefined || found === null || typeof found === "object")
        throw new Error(`${ref}${path}`);
      return String(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, outputs));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, outputs)]));
  return value;
}

function runSubrequest(state: EmulatorState, sub: Subrequest, isAllOrNone: boolean): Answer {
  const url = new URL(sub.url, "http://emulator");
  const version = url.pathname.match(/^\/services\/data\/v(\d+\.\d)\//)?.[1] ?? "0";
  try {
    const route = resolveRoute(state, sub.method, url, version, () => sub.body, {
      source: "composite",
      isAllOrNoneForced: isAllOrNone,
    });
    if (!route)
      return {
        status: 404,
        body: [{ errorCode: "NOT_FOUND", message: "The requested resource does not exist" }],
      };
    state.stats.countSubrequest(route.operation);
    const fault = state.faults.takeCallFault({
      operation: route.operation === "other" || route.operation === "versions" ? "other" : route.operation,
      ...(route.object === undefined ? {} : { object: route.object }),
      isWrite: route.isWrite,
      isSubrequest: true,
    });
    if (fault) return fault;
    const answer = route.run();
    if (route.operation === "upsert" && answer.status === 201) {
      const id = (answer.body as { id?: string }).id;
      return {
        ...answer,
        headers: { Location: `/services/data/v${version}/sobjects/${route.object}/${id}` },
      };
    }
    return answer;
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    return { status: error.status, body: [{ message: error.message, errorCode: error.errorCode }] };
  }
}

/** The answer of a subrequest whose reference has no value (its subrequest failed or does not exist). */
function invalidReference(reference: string): Answer {
  const ref = reference.split(/[.[]/)[0] ?? reference;
  return {
    status: 400,
    body: [
      {
        errorCode: "PROCESSING_HALTED",
        message: `Invalid reference specified. No value for ${reference} found in ${ref}. Provided referenceId ('${ref}') doesn't exist or failed.`,
      },
    ],
  };
}

/** A collections answer with a failed record fails the whole composite request when it is all-or-none. */
function isFailure(answer: Answer): boolean {
  if (answer.status >= 400) return true;
  return (
    Array.isArray(answer.body) && answer.body.some((r) => (r as { success?: unknown }).success === false)
  );
}

/**
 * `POST /composite`: runs the subrequests in order (collateSubrequests only allows reordering), resolving
 * `@{ref.field}` references. Without allOrNone a failed subrequest fails only itself and the subrequests that
 * reference it; with allOrNone the first failure rolls every write back and the others answer PROCESSING_HALTED.
 */
export function runComposite(state: EmulatorState, input: unknown): Answer {
  const { allOrNone, subrequests } = readCompositeRequest(input);
  const snapshot = allOrNone ? state.store.snapshot() : undefined;
  const recordsBefore = state.stats.read().records;
  const outputs = new Map<string, unknown>();
  const results: SubrequestResult[] = [];
  let failedAt = -1;
  for (const [index, sub] of subrequests.entries()) {
    let resolved: Subrequest | undefined;
    let missing = "";
    try {
      // A reference may arrive percent-encoded inside a query string.
      const url = sub.url.replace(
        /%40%7B(.*?)%7D/gi,
        (_match, inner: string) => `@{${decodeURIComponent(inner)}}`,
      );
      resolved = { ...sub, url: substitute(url, outputs) as string, body: substitute(sub.body, outputs) };
    } catch (error) {
      missing = (error as Error).message;
    }
    const answer = resolved ? runSubrequest(state, resolved, allOrNone) : invalidReference(missing);
    results.push({
      body: answer.body ?? null,
      httpHeaders: answer.headers ?? {},
      httpStatusCode: answer.status,
      referenceId: sub.referenceId,
    });
    if (!isFailure(answer)) outputs.set(sub.referenceId, answer.body);
    if (allOrNone && isFailure(answer)) {
      failedAt = index;
      break;
    }
  }
  if (snapshot && failedAt >= 0) {
    state.store.restore(snapshot);
    state.stats.restoreRecords(recordsBefore);
    return {
      status: 200,
      body: {
        compositeResponse: subrequests.map((sub, index) =>
          index === failedAt
            ? results[index]
            : { body: [ROLLED_BACK], httpHeaders: {}, httpStatusCode: 400, referenceId: sub.referenceId },
        ),
      },
    };
  }
  return { status: 200, body: { compositeResponse: results } };
}

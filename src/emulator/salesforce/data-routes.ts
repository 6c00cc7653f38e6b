import type { ObjectDefinition } from "../../salesforce-schema/objects.js";
import { describeObject } from "./describe-object.js";
import type { EmulatorOperation } from "./emulator-stats.js";
import type { Answer, EmulatorState } from "./emulator-state.js";
import { limitsAnswer } from "./org-limits.js";
import { readBatchSize } from "./query-cursor.js";
import { runSoql } from "./soql-query.js";
import { upsertCollection, upsertSingle } from "./upsert-records.js";
import { RequestError } from "./validate-record.js";
import type { WriteSource } from "./write-history.js";

// sObject Collections upsert by external id exists from API 46.0 on.
const COLLECTIONS_UPSERT_VERSION = 46;
const NOT_FOUND_MESSAGE = "The requested resource does not exist";

/** A resolved REST call: what it is (for stats and faults) and how to run it. */
export interface Route {
  operation: EmulatorOperation;
  /** The object the call names, if any. */
  object?: string;
  /** True for record writes. */
  isWrite: boolean;
  run: () => Answer;
}

/** How a call is made: on its own, or as a composite subrequest. */
export interface RouteContext {
  /** The write source recorded in the history. */
  source: WriteSource;
  /** A composite request with allOrNone forces it on its collections subrequests. */
  isAllOrNoneForced?: boolean;
  /** The `Sforce-Query-Options` header, for the query batch size. */
  queryOptions?: string | string[];
}

/** Resolves the sObject, collections, describe, query and limits resources; undefined when none matches. */
export function resolveRoute(
  state: EmulatorState,
  method: string,
  url: URL,
  version: string,
  readBody: () => unknown,
  context: RouteContext,
): Route | undefined {
  const parts = url.pathname.split("/").filter(Boolean).slice(3).map(decodeURIComponent);
  const object = (name: string | undefined): ObjectDefinition => {
    const definition = name ? state.store.definition(name) : undefined;
    if (!definition) throw new RequestError("NOT_FOUND", NOT_FOUND_MESSAGE, 404);
    return definition;
  };
  const [first, second, third, fourth, ...rest] = parts;
  if (
    method === "PATCH" &&
    first === "composite" &&
    second === "sobjects" &&
    fourth !== undefined &&
    rest.length === 0
  ) {
    return {
      operation: "collections_upsert",
      object: third,
      isWrite: true,
      run: () => {
        if (Number(version) < COLLECTIONS_UPSERT_VERSION)
          throw new RequestError("NOT_FOUND", NOT_FOUND_MESSAGE, 404);
        const { results, tally } = upsertCollection(
          object(third),
          fourth,
          readBody(),
          state.store,
          state.faults,
          {
            source: context.source,
            isAllOrNoneForced: context.isAllOrNoneForced === true,
          },
        );
        state.stats.countRecords(tally);
        return { status: 200, body: results };
      },
    };
  }
  if (method === "PATCH" && first === "sobjects" && fourth !== undefined && rest.length === 0) {
    return {
      operation: "upsert",
      object: second,
      isWrite: true,
      run: () => {
        const answer = upsertSingle(
          object(second),
          third ?? "",
          fourth,
          readBody(),
          state.store,
          state.faults,
          context.source,
        );
        state.stats.countRecords(answer.tally);
        return { status: answer.status, body: answer.body };
      },
    };
  }
  if (method === "GET" && first === "sobjects" && third === "describe" && fourth === undefined) {
    const definition = object(second);
    return {
      operation: "describe",
      object: definition.name,
      isWrite: false,
      run: () => ({
        status: 200,
        body: describeObject(definition, state.store.keyPrefix(definition.name), version, (field) =>
          state.store.schema.fieldAccess(definition.name, field),
        ),
      }),
    };
  }
  if (method === "GET" && first === "query" && third === undefined) {
    return {
      operation: "query",
      isWrite: false,
      run: () => {
        if (second !== undefined) return { status: 200, body: state.cursors.next(second) };
        const soql = url.searchParams.get("q");
        if (!soql) throw new RequestError("MALFORMED_QUERY", "q parameter is required");
        const rows = runSoql(soql, state.store, version);
        return { status: 200, body: state.cursors.open(rows, readBatchSize(context.queryOptions), version) };
      },
    };
  }
  if (method === "GET" && first === "limits" && second === undefined) {
    return {
      operation: "limits",
      isWrite: false,
      run: () => ({ status: 200, body: limitsAnswer(state.stats) }),
    };
  }
  return undefined;
}

import { RetryableSyncError } from "../../shared/errors.js";

/** One subrequest of a Composite request. */
export interface Subrequest {
  method: "GET" | "PATCH" | "POST";
  /** `/services/data/vXX.X/...`. */
  url: string;
  body?: unknown;
}

/** One subrequest's answer: its own status and body. */
export interface SubrequestAnswer {
  status: number;
  body: unknown;
}

/** Subrequests of one Composite request (Salesforce's limit). */
export const MAX_SUBREQUESTS = 25;

/** Subrequests of one Composite request that may be sObject Collections or queries (Salesforce's limit). */
export const MAX_HEAVY_SUBREQUESTS = 5;

/** Sends one REST call and answers its body text; whole-call failures throw (the client's `call`). */
export type RestCall = (operation: string, method: string, path: string, body?: string) => Promise<string>;

/** Parses a 2xx body; one that is not JSON came from something between us and Salesforce: retry later. */
export function parseJson<T>(operation: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new RetryableSyncError(
      "unexpected_response",
      `Salesforce ${operation} answered a body that is not JSON`,
      {
        cause: error,
        scope: "outage",
      },
    );
  }
}

/**
 * Runs subrequests in order in one Composite request (`POST /composite`, `allOrNone: false`): one
 * API call, whatever the number of subrequests (at most 5 of them collections or queries). Each
 * subrequest answers on its own; a failure of the whole call throws.
 */
export async function sendComposite(
  call: RestCall,
  apiVersion: string,
  operation: string,
  subrequests: readonly Subrequest[],
): Promise<SubrequestAnswer[]> {
  const body = {
    allOrNone: false,
    compositeRequest: subrequests.map((sub, i) => ({
      method: sub.method,
      url: sub.url,
      referenceId: `r${i}`,
      ...(sub.body === undefined ? {} : { body: sub.body }),
    })),
  };
  const text = await call(operation, "POST", `/services/data/v${apiVersion}/composite`, JSON.stringify(body));
  const parsed = parseJson<{
    compositeResponse?: Array<{ httpStatusCode?: number; body?: unknown; referenceId?: string }>;
  }>(operation, text);
  const byReference = new Map((parsed.compositeResponse ?? []).map((answer) => [answer.referenceId, answer]));
  return subrequests.map((_, i) => {
    const answer = byReference.get(`r${i}`);
    if (!answer || typeof answer.httpStatusCode !== "number") {
      throw new RetryableSyncError(
        "unexpected_response",
        `Salesforce composite gave no answer for subrequest ${i}`,
        {
          scope: "outage",
        },
      );
    }
    return { status: answer.httpStatusCode, body: answer.body };
  });
}

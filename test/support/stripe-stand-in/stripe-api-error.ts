/** Stripe's error body: `{ error: { type, code?, message, param?, doc_url? } }`. */
export interface StripeErrorBody {
  type: "invalid_request_error" | "api_error";
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

/** An error the stand-in answers with Stripe's status and body (and extra headers, e.g. on a 429). */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

/** 404 resource_missing, as Stripe answers an id that does not exist (in this account). */
export function resourceMissing(kind: string, id: string, param = "id"): StripeApiError {
  return new StripeApiError(404, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${kind}: '${id}'`,
    param,
    doc_url: "https://stripe.com/docs/error-codes/resource-missing",
  });
}

/** 400 for a parameter Stripe refuses. */
export function invalidParameter(param: string, message: string): StripeApiError {
  return new StripeApiError(400, {
    type: "invalid_request_error",
    code: "parameter_invalid_integer",
    message,
    param,
  });
}

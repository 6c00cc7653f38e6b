import Stripe from "stripe";
import { SignatureError } from "../../shared/errors.js";

/** Why a signature was refused; returned to the caller in the 400 body. */
export type SignatureFailure =
  "missing_signature" | "malformed_signature" | "no_matching_signature" | "timestamp_outside_tolerance";

/** A SignatureError that says which check failed. */
export class StripeSignatureError extends SignatureError {
  readonly reason: SignatureFailure;
  constructor(reason: SignatureFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Options for verifying the Stripe-Signature header. */
export interface SignatureOptions {
  /** Endpoint secrets (`whsec_...`); a signature made with any of them is accepted, for rotation. */
  secrets: readonly string[];
  /** Accepted age of the header's timestamp in seconds (Stripe's default is 300). */
  toleranceSeconds: number;
  /** Current time in milliseconds since the epoch. */
  nowMs: number;
}

/**
 * Verifies the body (the raw bytes, or the same decoded as UTF-8) against the Stripe-Signature header
 * with the Stripe SDK, which handles several `v1` signatures in one header and constant-time
 * comparison. Throws StripeSignatureError.
 */
export function verifyStripeSignature(
  rawBody: Buffer | string,
  header: string | undefined,
  options: SignatureOptions,
): void {
  if (header === undefined || header.trim() === "") {
    throw new StripeSignatureError("missing_signature", "the Stripe-Signature header is missing");
  }
  if (options.secrets.length === 0) {
    throw new StripeSignatureError("no_matching_signature", "no webhook signing secret is configured");
  }
  let sawExpired = false;
  for (const secret of options.secrets) {
    try {
      Stripe.webhooks.signature!.verifyHeader(
        rawBody,
        header,
        secret,
        options.toleranceSeconds,
        undefined,
        options.nowMs,
      );
      return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (
        message.startsWith("Unable to extract timestamp") ||
        message.startsWith("No signatures found with expected scheme")
      ) {
        throw new StripeSignatureError(
          "malformed_signature",
          "the Stripe-Signature header has no timestamp or no v1 signature",
        );
      }
      if (message.startsWith("Timestamp outside the tolerance zone")) sawExpired = true;
      else if (!message.startsWith("No signatures found matching")) {
        throw new StripeSignatureError(
          "malformed_signature",
          `the Stripe-Signature header could not be read: ${message}`,
        );
      }
    }
  }
  if (sawExpired) {
    throw new StripeSignatureError(
      "timestamp_outside_tolerance",
      `the signature's timestamp is more than ${options.toleranceSeconds} seconds old`,
    );
  }
  throw new StripeSignatureError(
    "no_matching_signature",
    "no v1 signature matches the body for any configured secret (is the raw body forwarded unchanged?)",
  );
}

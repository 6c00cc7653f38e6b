import { RetryableSyncError } from "../../shared/errors.js";

/** Turns a store failure into a retryable error: the batch is kept and tried again. */
export function toStoreError(error: unknown): RetryableSyncError {
  if (error instanceof RetryableSyncError) return error;
  return new RetryableSyncError("store_unavailable", `sync store: ${(error as Error).message}`, {
    cause: error,
  });
}

/** The error of a batch that no longer holds one of its leases: it writes and commits nothing. */
export function leaseLost(): RetryableSyncError {
  return new RetryableSyncError(
    "lease_lost",
    "a record lease ran out or was taken over; nothing was written",
  );
}

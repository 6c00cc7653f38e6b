import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EventOutcome, EventSyncer, SyncItem } from "../../domain/sync/sync-events.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { computeRetryDelaySeconds, type BackoffPolicy } from "./backoff.js";
import { sendToDeadLetterQueue } from "./dead-letter.js";
import { describeError } from "./describe-error.js";
import type { HeldMessage } from "./held-message.js";
import { changeVisibility, deleteMessages } from "./queue-actions.js";
import type { VisibilityHeartbeat } from "./visibility-heartbeat.js";

/** Everything processing a group of messages needs. */
export interface ProcessGroupDeps {
  sqs: SQSClient;
  queueUrl: string;
  /** Where permanent failures go; undefined leaves them to the queue's redrive policy. */
  dlqUrl: string | undefined;
  syncer: EventSyncer;
  heartbeat: VisibilityHeartbeat;
  metrics: Metrics;
  logger: Logger;
  backoff: BackoffPolicy;
  /** Random source for the retry jitter (default Math.random). */
  random?: () => number;
}

/** A retry as the worker schedules it. */
interface RetryRequest {
  message: HeldMessage;
  reason: string;
  detail?: string;
  /** The peer's minimum delay (Salesforce's hint). */
  retryAfterSeconds?: number;
  /** About this delay instead of the exponential backoff (a record busy in another batch). */
  retryInSeconds?: number;
}

const UNPARSEABLE = (message: HeldMessage): EventOutcome => ({
  status: "dead-letter",
  reason: "unparseable_body",
  detail: message.parseProblem ?? "not an event",
});

/** Asks the domain about every parseable message at once; a throw means "retry them all". */
async function syncGroup(messages: readonly HeldMessage[], deps: ProcessGroupDeps): Promise<EventOutcome[]> {
  const parseable = messages.filter((m) => m.event !== undefined);
  const byMessage = new Map<HeldMessage, EventOutcome>();
  if (parseable.length > 0) {
    const log = deps.logger.child({ messages: parseable.length });
    const items: SyncItem[] = parseable.map((m) => ({
      event: m.event!,
      isRedelivery: m.receiveCount > 1,
      needsObject: m.needsObject,
      log: m.log,
    }));
    try {
      const outcomes = await deps.syncer.syncEvents(items, log);
      parseable.forEach((m, i) => byMessage.set(m, outcomes[i] ?? { status: "retry", reason: "no_outcome" }));
    } catch (error) {
      log.error("syncEvents failed; every message of the group will be retried", {
        error: describeError(error),
      });
      for (const m of parseable) byMessage.set(m, { status: "retry", reason: "sync_failed" });
    }
  }
  return messages.map((m) => byMessage.get(m) ?? UNPARSEABLE(m));
}

/**
 * Handles one group of held messages end to end: one syncEvents call for the parseable ones,
 * then deletes (applied, duplicate, stale, ignored), hides retries for their backoff, and parks
 * permanent failures on the dead-letter queue before deleting them. Never throws; a message whose
 * settlement fails simply reappears after its visibility timeout.
 */
export async function processGroup(messages: readonly HeldMessage[], deps: ProcessGroupDeps): Promise<void> {
  const toDelete: HeldMessage[] = [];
  const toHide: { message: HeldMessage; seconds: number }[] = [];
  const random = deps.random ?? Math.random;
  const retry = (request: RetryRequest) => {
    const { message } = request;
    const seconds =
      request.retryInSeconds !== undefined
        ? // About the asked delay, with jitter so contending messages do not come back together.
          Math.round(request.retryInSeconds * (1 + random()))
        : computeRetryDelaySeconds(message.receiveCount, {
            policy: deps.backoff,
            ...(request.retryAfterSeconds === undefined
              ? {}
              : { retryAfterSeconds: request.retryAfterSeconds }),
            random,
          });
    toHide.push({ message, seconds });
    message.log.warn("event will be retried", {
      outcome: "retry",
      reason: request.reason,
      ...(request.detail === undefined ? {} : { detail: request.detail }),
      receiveCount: message.receiveCount,
      retryInSeconds: seconds,
    });
  };
  try {
    const outcomes = await syncGroup(messages, deps);
    await deps.heartbeat.forget(messages);
    const deadLetters: Promise<void>[] = [];
    messages.forEach((message, i) => {
      const outcome = outcomes[i] as EventOutcome;
      switch (outcome.status) {
        case "applied":
        case "duplicate":
        case "stale":
        case "ignored":
          toDelete.push(message);
          message.log.info("event handled", {
            outcome: outcome.status,
            ...("reason" in outcome ? { reason: outcome.reason } : {}),
          });
          break;
        case "retry":
          retry({ message, ...outcome });
          break;
        case "dead-letter":
          deadLetters.push(deadLetter(message, outcome, deps, toDelete, retry));
          break;
      }
    });
    await Promise.all(deadLetters);
    await Promise.all([
      deleteMessages(deps.sqs, deps.queueUrl, toDelete),
      changeVisibility(deps.sqs, deps.queueUrl, toHide),
    ]);
  } catch (error) {
    deps.logger.error(
      "unexpected failure while settling messages; they reappear after their visibility timeout",
      {
        error: describeError(error),
      },
    );
  } finally {
    await deps.heartbeat.forget(messages);
    for (const message of messages) if (message.markSettled()) deps.metrics.messagesInFlight.dec();
  }
}

/** Parks one message on the DLQ and queues its delete; without a DLQ, or when the send fails, retries it. */
async function deadLetter(
  message: HeldMessage,
  outcome: { reason: string; detail: string },
  deps: ProcessGroupDeps,
  toDelete: HeldMessage[],
  retry: (request: RetryRequest) => void,
): Promise<void> {
  if (deps.dlqUrl === undefined) {
    // No DLQ to write to: keep the message (never lose it) and hide it for the longest backoff, so
    // the queue's redrive policy, if any, parks it after maxReceiveCount.
    message.log.error(
      "permanent failure but no dead-letter queue is known; leaving it to the redrive policy",
      {
        outcome: "dead-letter",
        reason: outcome.reason,
        detail: outcome.detail,
      },
    );
    retry({
      message,
      reason: outcome.reason,
      detail: outcome.detail,
      retryAfterSeconds: deps.backoff.maxSeconds,
    });
    return;
  }
  try {
    await sendToDeadLetterQueue(deps.sqs, deps.dlqUrl, message, outcome);
  } catch (error) {
    message.log.error("dead-letter send failed", { reason: outcome.reason, error: describeError(error) });
    retry({ message, reason: "dead_letter_send_failed" });
    return;
  }
  deps.metrics.deadLetters.inc({ reason: outcome.reason });
  toDelete.push(message);
  message.log.error("event dead-lettered", {
    outcome: "dead-letter",
    reason: outcome.reason,
    detail: outcome.detail,
  });
}

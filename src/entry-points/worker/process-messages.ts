import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { computeRetryDelaySeconds, type BackoffPolicy } from "./backoff.js";
import { sendToDeadLetterQueue } from "./dead-letter.js";
import { describeError } from "./describe-error.js";
import type { EventOutcome, EventSyncer } from "./event-syncer-port.js";
import type { HeldMessage } from "./held-message.js";
import { changeVisibility, deleteMessages } from "./queue-actions.js";
import type { VisibilityHeartbeat } from "./visibility-heartbeat.js";

/** What happens to one message after its event was handled. */
export type MessageDecision =
  | { action: "delete"; outcome: "applied" | "duplicate" | "stale" | "ignored"; reason?: string }
  | { action: "retry"; reason: string; retryAfterSeconds?: number; retryInSeconds?: number }
  | { action: "dead-letter"; reason: string; detail: string };

/** Everything processing a group of messages needs. */
export interface ProcessMessagesDeps {
  sqs: SQSClient;
  queueUrl: string;
  /** Where permanent failures go; undefined leaves them to the queue's redrive policy. */
  dlqUrl: string | undefined;
  syncer: EventSyncer;
  heartbeat: VisibilityHeartbeat;
  metrics: Metrics;
  logger: Logger;
  backoff: BackoffPolicy;
  random?: () => number;
}

/** Maps the domain's outcome for one event to what the worker does with its message. */
export function decideForOutcome(outcome: EventOutcome | undefined): MessageDecision {
  if (outcome === undefined) return { action: "retry", reason: "no_outcome" };
  switch (outcome.status) {
    case "applied":
    case "duplicate":
    case "stale":
      return { action: "delete", outcome: outcome.status };
    case "ignored":
      return { action: "delete", outcome: "ignored", reason: outcome.reason };
    case "retry":
      return {
        action: "retry",
        reason: outcome.reason,
        ...(outcome.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: outcome.retryAfterSeconds }),
        ...(outcome.retryInSeconds === undefined ? {} : { retryInSeconds: outcome.retryInSeconds }),
      };
    case "dead-letter":
      return { action: "dead-letter", reason: outcome.reason, detail: outcome.detail };
  }
}

/** Asks the domain about every parseable message at once; a throw means "retry them all". */
async function decideAll(
  messages: readonly HeldMessage[],
  deps: ProcessMessagesDeps,
): Promise<MessageDecision[]> {
  const parseable = messages.filter((m) => m.event !== undefined);
  const byMessage = new Map<HeldMessage, MessageDecision>();
  if (parseable.length > 0) {
    const log = deps.logger.child({ messages: parseable.length });
    try {
      const outcomes = await deps.syncer.syncEvents(
        parseable.map((m) => m.event!),
        log,
      );
      if (outcomes.length !== parseable.length) {
        log.error("syncEvents answered the wrong number of outcomes", {
          events: parseable.length,
          outcomes: outcomes.length,
        });
      }
      parseable.forEach((m, i) => byMessage.set(m, decideForOutcome(outcomes[i])));
    } catch (error) {
      log.error("syncEvents failed; every message of the group will be retried", {
        error: describeError(error),
      });
      for (const m of parseable) byMessage.set(m, { action: "retry", reason: "sync_failed" });
    }
  }
  return messages.map(
    (m) =>
      byMessage.get(m) ?? {
        action: "dead-letter",
        reason: "unparseable_body",
        detail: m.parseProblem ?? "not an event",
      },
  );
}

/**
 * Handles one group of held messages end to end: one syncEvents call for the parseable ones,
 * then deletes (applied, duplicate, stale, ignored), hides retries for their backoff, and parks
 * permanent failures on the dead-letter queue before deleting them. Never throws; a message whose
 * settlement fails simply reappears after its visibility timeout.
 */
export async function processMessages(
  messages: readonly HeldMessage[],
  deps: ProcessMessagesDeps,
): Promise<void> {
  const toDelete: HeldMessage[] = [];
  const toHide: { message: HeldMessage; seconds: number }[] = [];
  const random = deps.random ?? Math.random;
  const delayFor = (message: HeldMessage, retryAfterSeconds?: number, retryInSeconds?: number) =>
    retryInSeconds !== undefined
      ? // About the asked delay, with jitter so contending messages do not come back together.
        Math.round(retryInSeconds * (1 + random()))
      : computeRetryDelaySeconds(message.receiveCount, {
          policy: deps.backoff,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          random,
        });
  const retry = (
    message: HeldMessage,
    reason: string,
    retryAfterSeconds?: number,
    detail?: string,
    retryInSeconds?: number,
  ) => {
    const seconds = delayFor(message, retryAfterSeconds, retryInSeconds);
    toHide.push({ message, seconds });
    message.log.warn("event will be retried", {
      outcome: "retry",
      reason,
      ...(detail === undefined ? {} : { detail }),
      receiveCount: message.receiveCount,
      retryInSeconds: seconds,
    });
  };
  try {
    const decisions = await decideAll(messages, deps);
    await deps.heartbeat.forget(messages);
    const deadLetters: Promise<void>[] = [];
    messages.forEach((message, i) => {
      const decision = decisions[i]!;
      switch (decision.action) {
        case "delete":
          toDelete.push(message);
          message.log.info("event handled", {
            outcome: decision.outcome,
            ...(decision.reason === undefined ? {} : { reason: decision.reason }),
          });
          break;
        case "retry":
          retry(message, decision.reason, decision.retryAfterSeconds, undefined, decision.retryInSeconds);
          break;
        case "dead-letter":
          deadLetters.push(deadLetter(message, decision, deps, toDelete, retry));
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
  decision: { reason: string; detail: string },
  deps: ProcessMessagesDeps,
  toDelete: HeldMessage[],
  retry: (message: HeldMessage, reason: string, retryAfterSeconds?: number, detail?: string) => void,
): Promise<void> {
  if (deps.dlqUrl === undefined) {
    // No DLQ to write to: keep the message (never lose it) and hide it for the longest backoff, so
    // the queue's redrive policy, if any, parks it after maxReceiveCount.
    message.log.error(
      "permanent failure but no dead-letter queue is known; leaving it to the redrive policy",
      {
        outcome: "dead-letter",
        reason: decision.reason,
        detail: decision.detail,
      },
    );
    retry(message, decision.reason, deps.backoff.maxSeconds, decision.detail);
    return;
  }
  try {
    await sendToDeadLetterQueue(deps.sqs, deps.dlqUrl, message, decision);
  } catch (error) {
    message.log.error("dead-letter send failed", { reason: decision.reason, error: describeError(error) });
    retry(message, "dead_letter_send_failed");
    return;
  }
  deps.metrics.deadLetters.inc({ reason: decision.reason });
  toDelete.push(message);
  message.log.error("event dead-lettered", {
    outcome: "dead-letter",
    reason: decision.reason,
    detail: decision.detail,
  });
}

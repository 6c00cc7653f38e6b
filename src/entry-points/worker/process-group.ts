import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EventOutcome, EventSyncer, SyncItem } from "../../domain/sync/sync-events.js";
import { sleep, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { computeRetryDelaySeconds, quickRetryDelayMs, type RetryPolicy } from "./backoff.js";
import { sendToDeadLetterQueue } from "./dead-letter.js";
import { describeError } from "./describe-error.js";
import type { HeldMessage } from "./held-message.js";
import type { PauseScope } from "./pause-gate.js";
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
  clock: Clock;
  retry: RetryPolicy;
  /** Longest a group may take; past it its messages go back to the queue (default 120 s). */
  deadlineMs: number;
  /** Random source for the retry jitter (default Math.random). */
  random?: () => number;
}

/** What is left to the worker once a group is processed: messages it keeps holding. */
export interface GroupResult {
  /** Record-level failures to try again inside the worker after `delayMs`. */
  retrySoon: { message: HeldMessage; delayMs: number }[];
  /** Messages held back while the worker is paused, sent again when it resumes. */
  parked: HeldMessage[];
  /** The pauses the group's failures call for, with what they said. */
  pauses: { scope: PauseScope; detail: string }[];
}

const REJECTED = (message: HeldMessage): EventOutcome => ({
  status: "dead-letter",
  reason: message.rejection?.reason ?? "unparseable_body",
  detail: message.rejection?.detail ?? "not an event",
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
      isThin: m.isThin,
      log: m.log,
    }));
    try {
      const outcomes = await deps.syncer.syncEvents(items, log);
      parseable.forEach((m, i) =>
        byMessage.set(m, outcomes[i] ?? { status: "retry", reason: "no_outcome", scope: "record" }),
      );
    } catch (error) {
      log.error("syncEvents failed; every message of the group will be retried", {
        error: describeError(error),
      });
      for (const m of parseable)
        byMessage.set(m, { status: "retry", reason: "sync_failed", scope: "record" });
    }
  }
  return messages.map((m) => byMessage.get(m) ?? REJECTED(m));
}

/**
 * Handles one group of held messages: one syncEvents call for the parseable ones (bounded by the
 * group's deadline: past it, its messages go back to the queue), then deletes what is done
 * (applied, duplicate, stale, ignored), parks permanent failures on the dead-letter queue, keeps
 * record-level failures for a quick retry inside the worker (then, after a few, hides them for the
 * queue's backoff), and parks what calls for a pause. Never throws; a message whose settlement
 * fails simply reappears after its visibility timeout.
 */
export async function processGroup(
  messages: readonly HeldMessage[],
  deps: ProcessGroupDeps,
): Promise<GroupResult> {
  const result: GroupResult = { retrySoon: [], parked: [], pauses: [] };
  const toDelete: HeldMessage[] = [];
  const toHide: { message: HeldMessage; seconds: number }[] = [];
  const random = deps.random ?? Math.random;
  const settleLater = new Set<HeldMessage>();
  const startedAt = deps.clock.now();
  try {
    const deadline = new AbortController();
    const outcomes = await Promise.race([
      syncGroup(messages, deps),
      sleep(deps.clock, deps.deadlineMs, deadline.signal).then(() => undefined),
    ]);
    deadline.abort();
    await deps.heartbeat.forget(messages);
    if (outcomes === undefined) {
      deps.logger.error("group deadline passed; its messages go back to the queue", {
        messages: messages.length,
        deadlineMs: deps.deadlineMs,
      });
      await changeVisibility(
        deps.sqs,
        deps.queueUrl,
        messages.map((message) => ({ message, seconds: 0 })),
      );
      return result;
    }
    deps.logger.debug("group synced", {
      messages: messages.length,
      ms: deps.clock.now() - startedAt,
      waitedMs: startedAt - Math.min(...messages.map((m) => m.heldAt)),
    });
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
        case "retry": {
          message.attempts += 1;
          const fields = { outcome: "retry", reason: outcome.reason, receiveCount: message.receiveCount };
          if (outcome.scope !== "record") {
            result.pauses.push({ scope: outcome.scope, detail: outcome.detail ?? outcome.reason });
            result.parked.push(message);
            settleLater.add(message);
            message.log.warn("event held while the worker pauses", { ...fields, pause: outcome.scope });
          } else if (message.attempts <= deps.retry.quickAttempts) {
            const delayMs = quickRetryDelayMs(message.attempts, deps.retry, random);
            result.retrySoon.push({ message, delayMs });
            settleLater.add(message);
            message.log.warn("event will be retried", {
              ...fields,
              attempt: message.attempts,
              retryInMs: delayMs,
            });
          } else {
            const seconds = computeRetryDelaySeconds(message.receiveCount, {
              policy: deps.retry,
              ...(outcome.retryAfterSeconds === undefined
                ? {}
                : { retryAfterSeconds: outcome.retryAfterSeconds }),
              random,
            });
            toHide.push({ message, seconds });
            message.log.warn("event will be retried from the queue", { ...fields, retryInSeconds: seconds });
          }
          break;
        }
        case "dead-letter":
          deadLetters.push(deadLetter(message, outcome, deps, toDelete, toHide));
          break;
      }
    });
    await Promise.all(deadLetters);
    await Promise.all([
      deleteMessages(deps.sqs, deps.queueUrl, toDelete),
      changeVisibility(deps.sqs, deps.queueUrl, toHide),
    ]);
    // Kept messages go on being extended while the worker holds them.
    deps.heartbeat.hold([...settleLater]);
  } catch (error) {
    deps.logger.error(
      "unexpected failure while settling messages; they reappear after their visibility timeout",
      {
        error: describeError(error),
      },
    );
  } finally {
    for (const message of messages)
      if (!settleLater.has(message) && message.markSettled()) deps.metrics.messagesInFlight.dec();
  }
  return result;
}

/** Parks one message on the DLQ and queues its delete; without a DLQ, or when the send fails, retries it. */
async function deadLetter(
  message: HeldMessage,
  outcome: { reason: string; detail: string },
  deps: ProcessGroupDeps,
  toDelete: HeldMessage[],
  toHide: { message: HeldMessage; seconds: number }[],
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
    toHide.push({ message, seconds: deps.retry.maxSeconds });
    return;
  }
  try {
    await sendToDeadLetterQueue(deps.sqs, deps.dlqUrl, message, outcome);
  } catch (error) {
    message.log.error("dead-letter send failed; retried from the queue", {
      reason: outcome.reason,
      error: describeError(error),
    });
    toHide.push({ message, seconds: computeRetryDelaySeconds(message.receiveCount, { policy: deps.retry }) });
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

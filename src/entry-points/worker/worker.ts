import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { AppConfig } from "../../config/config.js";
import type { EventSyncer } from "../../domain/sync/sync-events.js";
import { sleep, systemClock, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { defaultBackoffPolicy, type BackoffPolicy } from "./backoff.js";
import { discoverDeadLetterQueueUrl } from "./dead-letter.js";
import { GroupScheduler } from "./group-scheduler.js";
import { holdMessage, type HeldMessage } from "./held-message.js";
import { processGroup } from "./process-group.js";
import { releaseMessages } from "./queue-actions.js";
import { ReceiveLoops } from "./receive-loop.js";
import type { WorkState } from "../health/health-router.js";
import { describeError } from "./describe-error.js";
import { VisibilityHeartbeat } from "./visibility-heartbeat.js";

/** What the queue worker needs; the composition root wires the real ones. */
export interface WorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Dead-letter queue for permanent failures; discovered from the queue's RedrivePolicy when absent. */
  dlqUrl?: string | undefined;
  syncer: EventSyncer;
  config: AppConfig["worker"];
  metrics: Metrics;
  logger: Logger;
  /** Time and timers (default the wall clock). */
  clock?: Clock;
  /** Retry delay curve (default 30 s doubling up to 900 s). */
  backoff?: BackoffPolicy;
  /** Random source for the backoff jitter (default Math.random). */
  random?: () => number;
  /**
   * What must hold before the first receive (the org reachable, the store scoped to it, the
   * mapping matching the org); retried until it passes, while readiness answers 503 with its error.
   */
  prepare?: () => Promise<void>;
}

/** The running queue worker. */
export interface Worker {
  /** Resolves the dead-letter queue, then prepares (retrying in the background) and starts receiving; returns at once. */
  start(): Promise<void>;
  /** Stops receiving, lets work in flight finish within the shutdown budget, releases the rest. */
  stop(): Promise<void>;
  /** True once receiving and until stop begins. */
  isRunning(): boolean;
  /** What the worker does now, for readiness. */
  state(): WorkState;
}

/** Longest pause between two attempts to prepare, ms. */
const MAX_PREPARE_BACKOFF_MS = 30_000;

/** Part of the shutdown timeout kept back for releasing messages and closing up. */
function drainBudgetMs(shutdownTimeoutSeconds: number): number {
  const totalMs = shutdownTimeoutSeconds * 1000;
  return Math.max(0, totalMs - Math.min(5000, totalMs / 4));
}

/**
 * Creates the SQS worker: receive loops (with back-pressure) feed a group scheduler that hands
 * groups of messages (from several receives, up to `maxRecordsPerCall`) to `syncEvents`; each
 * message is then deleted, hidden for its backoff, or dead-lettered on its own. Messages are only
 * ever deleted after the domain reported them done, so a crash at any point loses nothing.
 */
export function createWorker(options: WorkerOptions): Worker {
  const { sqs, queueUrl, config, metrics } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: "worker" });
  const heartbeat = new VisibilityHeartbeat({
    sqs,
    queueUrl,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    logger,
    clock,
  });
  let dlqUrl = options.dlqUrl;
  let state: "idle" | "preparing" | "running" | "stopping" = "idle";
  let prepareProblem: string | undefined;
  const stopSignal = new AbortController();
  // Receiving runs ahead of syncing: two groups being synced, one waiting, and one receive per
  // loop may be held, so under a backlog groups fill to maxRecordsPerCall (fewer, fuller calls).
  const groupSize = Math.max(1, config.maxRecordsPerCall);
  const maxHeld = 3 * groupSize + config.concurrency * config.batchSize;
  let heldCount = 0;

  const scheduler = new GroupScheduler({
    groupSize,
    coalesceMs: config.coalesceMs,
    clock,
    runGroup: (messages) =>
      processGroup(messages, {
        sqs,
        queueUrl,
        dlqUrl,
        syncer: options.syncer,
        heartbeat,
        metrics,
        logger,
        backoff: options.backoff ?? defaultBackoffPolicy,
        ...(options.random ? { random: options.random } : {}),
      }),
  });

  const receiver: ReceiveLoops = new ReceiveLoops({
    sqs,
    queueUrl,
    concurrency: config.concurrency,
    batchSize: config.batchSize,
    waitTimeSeconds: config.waitTimeSeconds,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    clock,
    logger,
    metrics,
    hasRoom: () => heldCount + config.batchSize <= maxHeld,
    onMessages: (messages, isLastInFlight) => {
      const held = hold(messages);
      if (state !== "running") {
        void release(held);
        return;
      }
      scheduler.add(held, isLastInFlight);
    },
  });

  function hold(messages: Message[]): HeldMessage[] {
    const held = messages.map((m) => holdMessage(m, logger));
    metrics.messagesInFlight.inc(held.length);
    heartbeat.hold(held);
    heldCount += held.length;
    for (const message of held) {
      void message.whenSettled.then(() => {
        heldCount -= 1;
        receiver.wake();
      });
    }
    return held;
  }

  async function release(messages: readonly HeldMessage[]): Promise<void> {
    const unsettled = messages.filter((m) => !m.isSettled());
    if (unsettled.length === 0) return;
    await heartbeat.forget(unsettled);
    await releaseMessages(sqs, queueUrl, unsettled, logger);
    for (const message of unsettled) if (message.markSettled()) metrics.messagesInFlight.dec();
  }

  /** Runs `prepare` until it passes (unless stopped meanwhile), then starts receiving. */
  async function prepareThenReceive(): Promise<void> {
    for (let attempt = 1; options.prepare && state === "preparing"; attempt++) {
      try {
        await options.prepare();
        prepareProblem = undefined;
        break;
      } catch (error) {
        prepareProblem = describeError(error);
        const waitMs = Math.min(1000 * 2 ** (attempt - 1), MAX_PREPARE_BACKOFF_MS);
        logger.error("worker cannot start consuming yet; retrying", {
          problem: prepareProblem,
          retryInMs: waitMs,
        });
        await sleep(clock, waitMs, stopSignal.signal);
      }
    }
    if (state !== "preparing") return;
    state = "running";
    heartbeat.start();
    receiver.start();
    logger.info("worker started", {
      queueUrl,
      concurrency: config.concurrency,
      batchSize: config.batchSize,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    });
  }

  return {
    async start() {
      if (state !== "idle") return;
      if (dlqUrl === undefined) {
        dlqUrl = await discoverDeadLetterQueueUrl(sqs, queueUrl);
        if (dlqUrl) logger.info("dead-letter queue found through the queue's RedrivePolicy", { dlqUrl });
      }
      if (dlqUrl === undefined) {
        logger.warn(
          "no dead-letter queue: set SQS_DLQ_URL or a RedrivePolicy on the queue; permanent failures will be logged and kept on the main queue",
          { queueUrl },
        );
      }
      state = "preparing";
      void prepareThenReceive();
    },

    async stop() {
      if (state === "preparing") {
        state = "idle";
        stopSignal.abort();
        return;
      }
      if (state !== "running") return;
      state = "stopping";
      const startedAt = clock.now();
      const receiving = receiver.stop(config.shutdownTimeoutSeconds * 1000);
      // Gathered but not yet handed to the domain: give them back at once.
      await release(scheduler.takeBackUnstarted());
      const finished = await Promise.race([
        scheduler.whenIdle().then(() => true),
        sleep(clock, drainBudgetMs(config.shutdownTimeoutSeconds)).then(() => false),
      ]);
      // A write still running may yet land: releasing its message would let another consumer
      // write the same record meanwhile, and this late write could land last. Its message is left
      // to come back after its visibility timeout, as after a SIGKILL.
      const unfinished = heartbeat.heldMessages().filter((m) => !m.isSettled());
      if (!finished)
        logger.warn("shutdown budget spent; leaving unfinished messages to their visibility timeout", {
          unfinished: unfinished.length,
        });
      heartbeat.stop();
      // Loops end once their long poll is aborted; a receive stuck on SQS must not hold the exit.
      await receiving;
      state = "idle";
      logger.info("worker stopped", { drainedInMs: clock.now() - startedAt, unfinished: unfinished.length });
    },

    isRunning: () => state === "running",

    state(): WorkState {
      if (state === "running") return { status: "ready" };
      if (state === "preparing")
        return {
          status: "starting",
          ...(prepareProblem ? { reason: "prepare_failed", detail: prepareProblem } : {}),
        };
      return { status: "draining" };
    },
  };
}

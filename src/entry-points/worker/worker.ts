import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { AppConfig } from "../../config/config.js";
import type { EventBridgeTrust } from "../../domain/ingest/eventbridge-envelope.js";
import type { EventSyncer } from "../../domain/sync/sync-events.js";
import { every, settlesWithin, sleep, systemClock, type Clock, type Timer } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import type { WorkState } from "../health/health-router.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./backoff.js";
import { discoverDeadLetterQueueUrl } from "./dead-letter.js";
import { describeError } from "./describe-error.js";
import { GroupScheduler } from "./group-scheduler.js";
import { holdMessage, type HeldMessage } from "./held-message.js";
import type { MessageTracing } from "./message-tracing.js";
import { PauseGate, type PauseScope, type ProbeSchedule } from "./pause-gate.js";
import { processGroup } from "./process-group.js";
import { releaseMessages } from "./queue-actions.js";
import { ReceiveLoops } from "./receive-loop.js";
import { VisibilityHeartbeat } from "./visibility-heartbeat.js";

/** What the queue worker needs; the composition root wires the real ones. */
export interface WorkerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Dead-letter queue for permanent failures; discovered from the queue's RedrivePolicy when absent. */
  dlqUrl?: string | undefined;
  syncer: EventSyncer;
  /** EventBridge envelopes accepted on the queue (default none: every envelope is dead-lettered as untrusted_source). */
  eventBridge?: EventBridgeTrust;
  config: AppConfig["worker"];
  metrics: Metrics;
  logger: Logger;
  /** Time and timers (default the wall clock). */
  clock?: Clock;
  /** Retry schedule of record-level failures (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy;
  /** Random source for the retry jitter (default Math.random). */
  random?: () => number;
  /**
   * What must hold before the first receive (the org reachable, the store scoped to it, the
   * mapping matching the org); retried until it passes, while readiness answers 503 with its error.
   */
  prepare?: () => Promise<void>;
  /**
   * Whether Salesforce would take work again after a pause of this scope (describe of the mapped
   * objects, the API usage, a cheap authenticated call); never writes a record. Without it a
   * pause ends at the first probe.
   */
  probe?: (scope: PauseScope) => Promise<boolean>;
  /** Probe schedules by pause scope (default DEFAULT_PROBE_SCHEDULES). */
  probeSchedules?: Partial<Record<PauseScope, ProbeSchedule>>;
  /** Why calls are being slowed down right now (the daily API budget), for readiness; undefined when they are not. */
  throttled?: () => string | undefined;
  /** Spans for each message and group (set only when tracing is on). */
  tracing?: MessageTracing | undefined;
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
 * groups of messages (from several receives) to `syncEvents`; each message is then deleted,
 * dead-lettered, retried within seconds inside the worker (record-level failures), or held while
 * the whole worker pauses (Salesforce down, the daily limit spent, the org refusing writes) until
 * a probe passes. Messages are only ever deleted after the domain reported them done, so a crash
 * at any point loses nothing.
 */
export function createWorker(options: WorkerOptions): Worker {
  const { sqs, queueUrl, config, metrics } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger.child({ component: "worker" });
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const maxHoldMs = config.maxHoldSeconds * 1000;
  const heartbeat = new VisibilityHeartbeat({
    sqs,
    queueUrl,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    logger,
    clock,
    maxHoldMs,
  });
  let dlqUrl = options.dlqUrl;
  let state: "idle" | "preparing" | "running" | "stopping" = "idle";
  let prepareProblem: string | undefined;
  const stopSignal = new AbortController();
  // Receiving runs ahead of syncing: per lane one group being synced and one filling, plus one
  // receive per loop, may be held, so under a backlog groups fill to groupSize (fewer, fuller calls).
  const groupSize = Math.max(1, config.maxGroupSize);
  const lanes = config.lanes;
  const maxHeld = 2 * lanes * groupSize + config.concurrency * config.batchSize;
  let heldCount = 0;
  /** Releases of messages that long polls brought after stop began. */
  const lateReleases: Promise<void>[] = [];
  /** Messages held back while paused. */
  const parked = new Set<HeldMessage>();
  /** Messages waiting for a quick retry, with their timers. */
  const retrying = new Map<HeldMessage, Timer>();
  let sweeper: Timer | undefined;
  const holdOne = options.tracing?.holdMessage ?? holdMessage;
  const traced = <T>(run: (messages: HeldMessage[]) => Promise<T>) =>
    options.tracing ? options.tracing.traceGroups(run) : run;

  const gate = new PauseGate({
    clock,
    logger,
    metrics,
    probe: options.probe ?? (async () => true),
    ...(options.probeSchedules ? { schedules: options.probeSchedules } : {}),
    onResume: () => {
      const resumed = [...parked];
      parked.clear();
      scheduler.add(resumed, false);
      scheduler.poke();
      receiver.wake();
    },
  });

  const scheduler = new GroupScheduler({
    groupSize,
    coalesceMs: config.coalesceMs,
    maxFillMs: config.maxFillMs,
    lanes,
    clock,
    mayStart: () => !gate.isPaused(),
    runGroup: traced(async (messages) => {
      const result = await processGroup(messages, {
        sqs,
        queueUrl,
        dlqUrl,
        syncer: options.syncer,
        heartbeat,
        metrics,
        logger,
        clock,
        retry,
        deadlineMs: config.groupDeadlineSeconds * 1000,
        ...(options.random ? { random: options.random } : {}),
      });
      for (const pause of result.pauses) gate.pause(pause.scope, pause.detail);
      for (const message of result.parked) parked.add(message);
      for (const { message, delayMs } of result.retrySoon) {
        retrying.set(
          message,
          clock.setTimer(() => {
            retrying.delete(message);
            if (state === "running") scheduler.add([message], false);
          }, delayMs),
        );
      }
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
    hasRoom: () => !gate.isPaused() && heldCount + config.batchSize <= maxHeld,
    onMessages: (messages) => {
      const held = hold(messages);
      if (state !== "running") {
        // A long poll that answered after stop began: give its messages back now, not after their
        // visibility timeout (stop waits for these releases).
        lateReleases.push(
          release(held).catch((error: unknown) => {
            logger.warn(
              "giving back messages received at stop failed; they return after their visibility timeout",
              {
                error: describeError(error),
              },
            );
          }),
        );
        return;
      }
      // Messages on their way: keep filling the group (within the window after each receive and the
      // fill bound). An empty receive means the queue has no more for now: write what waits at once.
      scheduler.add(held, messages.length > 0);
    },
  });

  function hold(messages: Message[]): HeldMessage[] {
    const now = clock.now();
    const held = messages.map((m) => holdOne(m, logger, now, options.eventBridge));
    metrics.messagesInFlight.inc(held.length);
    for (const message of held) metrics.messagesReceived.inc({ origin: message.origin });
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

  /** Parked messages past the hold bound go back to the queue rather than stay hidden for good. */
  function releaseOverdue(): Promise<void> {
    const now = clock.now();
    const overdue = [...parked].filter((message) => now - message.heldAt >= maxHoldMs);
    for (const message of overdue) parked.delete(message);
    return release(overdue);
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
    sweeper = every(clock, Math.max(1000, Math.min(maxHoldMs / 10, 30_000)), releaseOverdue);
    logger.info("worker started", {
      queueUrl,
      concurrency: config.concurrency,
      batchSize: config.batchSize,
      maxGroupSize: groupSize,
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
      stopSignal.abort();
      gate.stop();
      sweeper?.cancel();
      const receiving = receiver.stop(config.shutdownTimeoutSeconds * 1000);
      // Gathered, parked or waiting for a retry, but not in a write: give them back at once.
      for (const timer of retrying.values()) timer.cancel();
      const waiting = [...scheduler.takeBackUnstarted(), ...parked, ...retrying.keys()];
      parked.clear();
      retrying.clear();
      await release(waiting);
      const finished = await settlesWithin(
        clock,
        scheduler.whenIdle(),
        drainBudgetMs(config.shutdownTimeoutSeconds),
      );
      // A write still running may yet land: releasing its message would let another consumer
      // write the same record meanwhile, and this late write could land last. Its message is left
      // to come back after its visibility timeout, as after a SIGKILL. Messages its group kept
      // for a retry or a pause go back at once.
      await release([...parked, ...retrying.keys()]);
      const unfinished = heartbeat.heldMessages().filter((m) => !m.isSettled());
      if (!finished)
        logger.warn("shutdown budget spent; leaving unfinished messages to their visibility timeout", {
          unfinished: unfinished.length,
        });
      // The long polls in flight answer (bounded); what they brought goes back to the queue.
      await receiving;
      await Promise.all(lateReleases.splice(0));
      heartbeat.stop();
      state = "idle";
      logger.info("worker stopped", { drainedInMs: clock.now() - startedAt, unfinished: unfinished.length });
    },

    isRunning: () => state === "running",

    state(): WorkState {
      if (state === "running") {
        const pause = gate.current();
        if (pause)
          return {
            status: "paused",
            reason: pause.reason,
            ...(pause.detail ? { detail: pause.detail } : {}),
          };
        const throttled = options.throttled?.();
        return throttled ? { status: "ready", reason: "throttled", detail: throttled } : { status: "ready" };
      }
      if (state === "preparing")
        return {
          status: "starting",
          ...(prepareProblem ? { reason: "prepare_failed", detail: prepareProblem } : {}),
        };
      return { status: "draining" };
    },
  };
}

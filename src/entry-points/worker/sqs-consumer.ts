import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { AppConfig } from "../../config/config.js";
import { systemClock, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { defaultBackoffPolicy, type BackoffPolicy } from "./backoff.js";
import { Coalescer } from "./coalescer.js";
import { discoverDeadLetterQueueUrl } from "./dead-letter.js";
import { describeError } from "./describe-error.js";
import type { EventSyncer } from "./event-syncer-port.js";
import { holdMessage, type HeldMessage } from "./held-message.js";
import { processMessages } from "./process-messages.js";
import { releaseMessages } from "./queue-actions.js";
import { VisibilityHeartbeat } from "./visibility-heartbeat.js";

/** What the queue consumer needs; `main` wires the real ones. */
export interface WorkerDeps {
  sqs: SQSClient;
  queueUrl: string;
  /** Dead-letter queue for permanent failures; discovered from the queue's RedrivePolicy when absent. */
  dlqUrl?: string;
  syncer: EventSyncer;
  config: AppConfig["worker"];
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
  /** Retry delay curve (default 30 s doubling up to 900 s). */
  backoff?: BackoffPolicy;
  /** Random source for the backoff jitter (default Math.random). */
  random?: () => number;
}

/** The running queue consumer. */
export interface Worker {
  /** Resolves the dead-letter queue, then starts `concurrency` long-poll loops and returns. */
  start(): Promise<void>;
  /** Stops receiving, lets work in flight finish within the shutdown budget, releases the rest. */
  stop(): Promise<void>;
  /** True between start and the beginning of stop (readiness answers 503 outside). */
  isRunning(): boolean;
}

/** Part of the shutdown timeout kept back for releasing messages and closing up. */
function drainBudgetMs(shutdownTimeoutSeconds: number): number {
  const totalMs = shutdownTimeoutSeconds * 1000;
  return Math.max(0, totalMs - Math.min(5000, totalMs / 4));
}

/** Sleeps `ms`, ending early (without throwing) when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Creates the SQS consumer: `concurrency` long-poll loops feed one coalescer that hands groups
 * of messages (from several receives, up to `maxRecordsPerCall`) to `syncEvents`; each message
 * is then deleted, hidden for its backoff, or dead-lettered on its own. Messages are only ever
 * deleted after the domain reported them done, so a crash at any point loses nothing.
 */
export function createWorker(deps: WorkerDeps): Worker {
  const { sqs, queueUrl, config, metrics } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: "worker" });
  const heartbeat = new VisibilityHeartbeat({
    sqs,
    queueUrl,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    logger,
  });
  const tasks = new Set<Promise<void>>();
  let dlqUrl = deps.dlqUrl;
  let started = false;
  let stopping = false;
  let receivesInFlight = 0;
  let abort = new AbortController();
  let loops: Promise<void>[] = [];
  // Receiving runs ahead of syncing: two groups being synced, one waiting, and one receive per
  // loop may be held, so under a backlog groups fill to maxRecordsPerCall (fewer, fuller calls).
  const groupSize = Math.max(1, config.maxRecordsPerCall);
  const maxHeld = 3 * groupSize + config.concurrency * config.batchSize;
  let heldCount = 0;
  let capacityWaiters: (() => void)[] = [];
  const wakeReceivers = () => {
    const waiters = capacityWaiters;
    capacityWaiters = [];
    for (const wake of waiters) wake();
  };
  // Groups are synced at most two at a time: one writing while the next is gathered and read.
  const maxGroupsInFlight = 2;
  let groupsInFlight = 0;
  const waitingGroups: HeldMessage[][] = [];

  const startGroups = (): void => {
    while (!stopping && groupsInFlight < maxGroupsInFlight && waitingGroups.length > 0) {
      const messages = waitingGroups.shift() as HeldMessage[];
      groupsInFlight += 1;
      const task = processMessages(messages, {
        sqs,
        queueUrl,
        dlqUrl,
        syncer: deps.syncer,
        heartbeat,
        metrics,
        logger,
        backoff: deps.backoff ?? defaultBackoffPolicy,
        ...(deps.random ? { random: deps.random } : {}),
      });
      tasks.add(task);
      void task.finally(() => {
        tasks.delete(task);
        groupsInFlight -= 1;
        startGroups();
      });
    }
  };

  const coalescer = new Coalescer<HeldMessage>({
    windowMs: config.coalesceMs,
    maxItems: groupSize,
    onFlush: (messages) => {
      // While both sync slots are busy, top up the waiting group rather than queue a small one.
      let rest = messages;
      const last = waitingGroups.at(-1);
      if (last && last.length < groupSize) {
        const room = groupSize - last.length;
        last.push(...rest.slice(0, room));
        rest = rest.slice(room);
      }
      for (let i = 0; i < rest.length; i += groupSize) waitingGroups.push(rest.slice(i, i + groupSize));
      startGroups();
    },
  });

  const hold = (messages: Message[]): HeldMessage[] => {
    const held = messages.map((m) => holdMessage(m, logger));
    metrics.messagesInFlight.inc(held.length);
    heartbeat.hold(held);
    heldCount += held.length;
    for (const message of held) {
      void message.whenSettled.then(() => {
        heldCount -= 1;
        wakeReceivers();
      });
    }
    return held;
  };

  const release = async (messages: readonly HeldMessage[]): Promise<void> => {
    const unsettled = messages.filter((m) => !m.isSettled());
    if (unsettled.length === 0) return;
    await heartbeat.forget(unsettled);
    await releaseMessages(sqs, queueUrl, unsettled, logger);
    for (const message of unsettled) if (message.markSettled()) metrics.messagesInFlight.dec();
  };

  const receiveLoop = async (loop: number): Promise<void> => {
    let failures = 0;
    while (!stopping) {
      if (heldCount + config.batchSize > maxHeld) {
        await new Promise<void>((resolve) => capacityWaiters.push(resolve));
        continue;
      }
      let messages: Message[];
      receivesInFlight += 1;
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: config.batchSize,
            WaitTimeSeconds: config.waitTimeSeconds,
            VisibilityTimeout: config.visibilityTimeoutSeconds,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"],
            // The older spelling, for SQS-compatible servers that predate MessageSystemAttributeNames.
            AttributeNames: ["All"],
          }),
          // A long poll outlives the client's usual requestTimeout (5 s in createSqsClient).
          { abortSignal: abort.signal, requestTimeout: (config.waitTimeSeconds + 10) * 1000 },
        );
        messages = answer.Messages ?? [];
        failures = 0;
      } catch (error) {
        if (stopping) break;
        failures += 1;
        const waitMs = Math.min(1000 * 2 ** (failures - 1), 20_000);
        logger.warn("receive failed; polling again", {
          loop,
          error: describeError(error),
          retryInMs: waitMs,
        });
        await pause(waitMs, abort.signal);
        continue;
      } finally {
        receivesInFlight -= 1;
      }
      metrics.receiveBatchSize.observe(messages.length);
      if (messages.length === 0) continue;
      const held = hold(messages);
      if (stopping) {
        await release(held);
        break;
      }
      coalescer.add(held);
      // Nothing else is on its way: waiting out the window would only add latency.
      if (receivesInFlight === 0) coalescer.flushNow();
    }
  };

  return {
    async start() {
      if (started) return;
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
      started = true;
      stopping = false;
      abort = new AbortController();
      heartbeat.start();
      loops = Array.from({ length: config.concurrency }, (_, i) => receiveLoop(i));
      logger.info("worker started", {
        queueUrl,
        concurrency: config.concurrency,
        batchSize: config.batchSize,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      });
    },

    async stop() {
      if (!started || stopping) return;
      stopping = true;
      const startedAt = clock.now();
      abort.abort();
      wakeReceivers();
      // Gathered but not yet handed to the domain: give them back at once.
      await release([...coalescer.takeAll(), ...waitingGroups.splice(0).flat()]);
      const budgetMs = drainBudgetMs(config.shutdownTimeoutSeconds);
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        Promise.all([...tasks]).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), budgetMs))),
      ]);
      clearTimeout(timer);
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
      const leftMs = Math.max(0, config.shutdownTimeoutSeconds * 1000 - (clock.now() - startedAt));
      await Promise.race([Promise.all(loops), new Promise((resolve) => setTimeout(resolve, leftMs).unref())]);
      started = false;
      logger.info("worker stopped", { drainedInMs: clock.now() - startedAt, unfinished: unfinished.length });
    },

    isRunning: () => started && !stopping,
  };
}

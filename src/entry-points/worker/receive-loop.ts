import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { settlesWithin, sleep, type Clock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { describeError } from "./describe-error.js";

/** What the receive loops need. */
export interface ReceiveLoopsOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Long polls in flight at once. */
  concurrency: number;
  /** Messages per receive, at most 10. */
  batchSize: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Back-pressure: true while there is room for one more receive's messages. */
  hasRoom(): boolean;
  /**
   * Takes the messages of one receive (an empty answer too: the queue has nothing for now),
   * including a long poll that answers after `stop()` began: the taker gives those back.
   */
  onMessages(messages: Message[]): void;
}

/** Beyond its wait time, how long a long poll in flight at stop may take to answer before it is cut. */
const POLL_ANSWER_SLACK_MS = 5_000;

/** Longest wait between failed receives, ms. */
const MAX_RECEIVE_BACKOFF_MS = 20_000;

/**
 * `concurrency` long-poll loops on one queue. A loop receives only while `hasRoom()` holds and
 * otherwise sleeps until `wake()`; a failed receive is retried after a doubling pause.
 *
 * Stopping lets the long polls in flight answer rather than aborting them: SQS may already have
 * given messages to a poll whose connection the client closed, and those stay invisible for the
 * whole visibility timeout with no consumer to hand them back (measured: a restarted worker's
 * backlog waited 60 s on them). Only a poll still silent after its wait time and some slack is cut.
 */
export class ReceiveLoops {
  /** Cuts the long polls in flight: only for a poll that outlived its wait time at stop. */
  private abort = new AbortController();
  /** Ends the pauses between failed receives at once on stop. */
  private pause = new AbortController();
  private loops: Promise<void>[] = [];
  private running = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: ReceiveLoopsOptions) {}

  /** Starts the loops. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.pause = new AbortController();
    this.loops = Array.from({ length: this.options.concurrency }, (_, i) => this.loop(i));
  }

  /** Wakes loops waiting for room. */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }

  /**
   * Starts no more receives and waits for the long polls in flight to answer (their messages go to
   * `onMessages`), for at most their wait time plus slack, or `boundMs` if shorter; then cuts any
   * poll still open. Resolves once every loop ended.
   */
  async stop(boundMs: number): Promise<void> {
    this.running = false;
    this.pause.abort();
    this.wake();
    const pollBoundMs = Math.min(boundMs, this.options.waitTimeSeconds * 1000 + POLL_ANSWER_SLACK_MS);
    const ended = Promise.all(this.loops);
    const answered = await settlesWithin(this.options.clock, ended, pollBoundMs);
    if (!answered) {
      this.options.logger.warn("a long poll did not answer in time at stop; cutting it", { pollBoundMs });
      this.abort.abort();
      await settlesWithin(this.options.clock, ended, 1000);
    }
  }

  private async loop(loop: number): Promise<void> {
    const { options } = this;
    let failures = 0;
    while (this.running) {
      if (!options.hasRoom()) {
        await new Promise<void>((resume) => this.waiters.push(resume));
        continue;
      }
      let messages: Message[];
      try {
        const answer = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: options.waitTimeSeconds,
            VisibilityTimeout: options.visibilityTimeoutSeconds,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"],
            // The older spelling, for SQS-compatible servers that predate MessageSystemAttributeNames.
            AttributeNames: ["All"],
          }),
          // A long poll outlives the client's usual requestTimeout (5 s in createSqsClient).
          { abortSignal: this.abort.signal, requestTimeout: (options.waitTimeSeconds + 10) * 1000 },
        );
        messages = answer.Messages ?? [];
        failures = 0;
      } catch (error) {
        if (!this.running) break;
        failures += 1;
        const waitMs = Math.min(1000 * 2 ** (failures - 1), MAX_RECEIVE_BACKOFF_MS);
        options.logger.warn("receive failed; polling again", {
          loop,
          error: describeError(error),
          retryInMs: waitMs,
        });
        await sleep(options.clock, waitMs, this.pause.signal);
        continue;
      }
      options.metrics.receiveBatchSize.observe(messages.length);
      options.onMessages(messages);
    }
  }
}

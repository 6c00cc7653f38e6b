import type { SQSClient } from "@aws-sdk/client-sqs";
import { every, type Clock, type Timer } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import type { HeldMessage } from "./held-message.js";
import { changeVisibility } from "./queue-actions.js";

/**
 * Keeps held messages invisible while the worker works on them: every `visibilityTimeout / 2`
 * seconds one ChangeMessageVisibilityBatch per 10 held messages sets their visibility back to
 * `visibilityTimeout`. `forget` waits for a tick in flight, so no extension is ever sent for a
 * message after its delete.
 */
export class VisibilityHeartbeat {
  private readonly held = new Set<HeldMessage>();
  private timer: Timer | undefined;
  private tick: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      sqs: SQSClient;
      queueUrl: string;
      visibilityTimeoutSeconds: number;
      logger: Logger;
      clock: Clock;
    },
  ) {}

  /** Starts the periodic extension. */
  start(): void {
    if (this.timer) return;
    const intervalMs = Math.max(500, (this.options.visibilityTimeoutSeconds * 1000) / 2);
    this.timer = every(this.options.clock, intervalMs, () => {
      this.tick = this.tick.then(() => this.extend());
      return this.tick;
    });
  }

  /** Stops extending; held messages then reappear after their visibility timeout. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Starts extending these messages. */
  hold(messages: readonly HeldMessage[]): void {
    for (const message of messages) this.held.add(message);
  }

  /** Stops extending these messages and waits for any extension already sent. */
  async forget(messages: readonly HeldMessage[]): Promise<void> {
    for (const message of messages) this.held.delete(message);
    await this.tick;
  }

  /** Messages being extended right now. */
  heldMessages(): HeldMessage[] {
    return [...this.held];
  }

  private async extend(): Promise<void> {
    const messages = [...this.held];
    if (messages.length === 0) return;
    const seconds = this.options.visibilityTimeoutSeconds;
    const failures = await changeVisibility(
      this.options.sqs,
      this.options.queueUrl,
      messages.map((message) => ({ message, seconds })),
      ({ message, code, detail }) => message.log.warn("visibility extension failed", { code, detail }),
    );
    this.options.logger.debug("extended visibility", {
      messages: messages.length,
      failed: failures.length,
      seconds,
    });
  }
}

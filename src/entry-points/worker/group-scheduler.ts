import type { Clock } from "../../shared/clock.js";
import { Coalescer } from "./coalescer.js";
import type { HeldMessage } from "./held-message.js";

/** Options of the group scheduler. */
export interface GroupSchedulerOptions {
  /** Most messages per group (config worker.maxRecordsPerCall). */
  groupSize: number;
  /** How long messages from several receives are gathered (config worker.coalesceMs). */
  coalesceMs: number;
  /** Groups synced at once: one writing while the next is gathered and read (default 2). */
  maxGroupsInFlight?: number;
  clock: Clock;
  /** Syncs and settles one group; never throws. */
  runGroup(messages: HeldMessage[]): Promise<void>;
}

/**
 * Turns held messages into groups and runs at most `maxGroupsInFlight` of them at once. While both
 * slots are busy, newly gathered messages top up the group waiting next rather than queue a small
 * one, so under a backlog groups fill to `groupSize`.
 */
export class GroupScheduler {
  private readonly coalescer: Coalescer<HeldMessage>;
  private readonly waiting: HeldMessage[][] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly maxInFlight: number;
  private isStopped = false;

  constructor(private readonly options: GroupSchedulerOptions) {
    this.maxInFlight = options.maxGroupsInFlight ?? 2;
    this.coalescer = new Coalescer<HeldMessage>({
      windowMs: options.coalesceMs,
      maxItems: options.groupSize,
      clock: options.clock,
      onFlush: (messages) => this.enqueue(messages),
    });
  }

  /** Adds messages to the group being gathered; `flushNow` hands it over without waiting the window. */
  add(messages: readonly HeldMessage[], flushNow: boolean): void {
    this.coalescer.add(messages);
    if (flushNow) this.coalescer.flushNow();
  }

  /** Stops starting groups and takes back every message not handed to a group yet. */
  takeBackUnstarted(): HeldMessage[] {
    this.isStopped = true;
    return [...this.coalescer.takeAll(), ...this.waiting.splice(0).flat()];
  }

  /** Resolves when every running group settled. */
  async whenIdle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private enqueue(messages: HeldMessage[]): void {
    const size = this.options.groupSize;
    let rest = messages;
    const last = this.waiting.at(-1);
    if (last && last.length < size) {
      const room = size - last.length;
      last.push(...rest.slice(0, room));
      rest = rest.slice(room);
    }
    for (let i = 0; i < rest.length; i += size) this.waiting.push(rest.slice(i, i + size));
    this.startGroups();
  }

  private startGroups(): void {
    while (!this.isStopped && this.running.size < this.maxInFlight && this.waiting.length > 0) {
      const group = this.waiting.shift() as HeldMessage[];
      const run = this.options.runGroup(group).finally(() => {
        this.running.delete(run);
        this.startGroups();
      });
      this.running.add(run);
    }
  }
}

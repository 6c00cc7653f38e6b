import type { Clock } from "../../shared/clock.js";
import { Coalescer } from "./coalescer.js";
import type { HeldMessage } from "./held-message.js";

/** Options of the group scheduler. */
export interface GroupSchedulerOptions {
  /** Most messages per group. */
  groupSize: number;
  /** How long messages from several receives are gathered (config worker.coalesceMs). */
  coalesceMs: number;
  /** Groups synced at once: one writing while the next is gathered and read (default 2). */
  maxGroupsInFlight?: number;
  clock: Clock;
  /** False while the worker is paused: gathered groups wait. */
  mayStart(): boolean;
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

  /** Messages gathered or waiting for a slot, not yet handed to a group. */
  get waitingCount(): number {
    return this.coalescer.size + this.waiting.reduce((sum, group) => sum + group.length, 0);
  }

  /** Adds messages to the group being gathered; `flushNow` hands it over without waiting the window. */
  add(messages: readonly HeldMessage[], flushNow: boolean): void {
    if (messages.length > 0) this.coalescer.add(messages);
    if (flushNow) this.coalescer.flushNow();
  }

  /** Starts waiting groups if slots and the worker allow (after a pause ends). */
  poke(): void {
    this.startGroups();
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
    while (
      !this.isStopped &&
      this.options.mayStart() &&
      this.running.size < this.maxInFlight &&
      this.waiting.length > 0
    ) {
      const group = this.waiting.shift() as HeldMessage[];
      const run = this.options.runGroup(group).finally(() => {
        this.running.delete(run);
        this.startGroups();
      });
      this.running.add(run);
    }
  }
}

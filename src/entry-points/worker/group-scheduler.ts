import type { Clock } from "../../shared/clock.js";
import { Coalescer } from "./coalescer.js";
import type { HeldMessage } from "./held-message.js";

/** Options of the group scheduler. */
export interface GroupSchedulerOptions {
  /** Most messages per group. */
  groupSize: number;
  /** Longest wait for the next receive while messages keep coming (config worker.coalesceMs). */
  coalesceMs: number;
  /** Longest a message waits for companions under a backlog (config worker.maxFillMs). */
  maxFillMs: number;
  /** Lanes, each syncing one group at a time (default 2). */
  lanes?: number;
  clock: Clock;
  /** False while the worker is paused: gathered groups wait. */
  mayStart(): boolean;
  /** Syncs and settles one group; never throws. */
  runGroup(messages: HeldMessage[]): Promise<void>;
}

/** One lane: its gathering group, the groups waiting for it, and the group it runs. */
interface Lane {
  coalescer: Coalescer<HeldMessage>;
  waiting: HeldMessage[][];
  running: Promise<void> | undefined;
}

/** A string hash (FNV-1a) that spreads partition keys over lanes. */
function laneHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * Turns held messages into groups. Messages go to lanes by their partition key (their customer),
 * so the groups that run at the same time never share a record and never wait on each other's
 * record leases; each lane syncs one group at a time while its next group fills. While a lane is
 * busy, newly gathered messages top up the group waiting next rather than queue a small one, so
 * under a backlog groups fill to `groupSize`.
 */
export class GroupScheduler {
  private readonly lanes: Lane[];
  private isStopped = false;

  constructor(private readonly options: GroupSchedulerOptions) {
    this.lanes = Array.from({ length: Math.max(1, options.lanes ?? 2) }, () => {
      const waiting: HeldMessage[][] = [];
      const lane: Lane = {
        waiting,
        running: undefined,
        coalescer: new Coalescer<HeldMessage>({
          windowMs: options.coalesceMs,
          maxWaitMs: options.maxFillMs,
          maxItems: options.groupSize,
          clock: options.clock,
          onFlush: (messages) => this.enqueue(lane, messages),
        }),
      };
      return lane;
    });
  }

  /** Messages gathered or waiting for their lane, not yet handed to a group. */
  get waitingCount(): number {
    return this.lanes.reduce(
      (sum, lane) => sum + lane.coalescer.size + lane.waiting.reduce((n, group) => n + group.length, 0),
      0,
    );
  }

  /**
   * Adds messages to the groups being gathered. `keepFilling` (messages keep coming: a backlog)
   * waits for more, within the window and the fill bound; otherwise the groups go now.
   */
  add(messages: readonly HeldMessage[], keepFilling: boolean): void {
    const byLane = new Map<Lane, HeldMessage[]>();
    for (const message of messages) {
      const lane = this.lanes[laneHash(message.partitionKey) % this.lanes.length] as Lane;
      byLane.set(lane, [...(byLane.get(lane) ?? []), message]);
    }
    for (const lane of this.lanes) {
      const mine = byLane.get(lane) ?? [];
      if (mine.length > 0) lane.coalescer.add(mine, keepFilling);
      else if (!keepFilling) lane.coalescer.flushNow();
    }
  }

  /** Starts waiting groups if their lanes and the worker allow (after a pause ends). */
  poke(): void {
    for (const lane of this.lanes) this.startNext(lane);
  }

  /** Stops starting groups and takes back every message not handed to a group yet. */
  takeBackUnstarted(): HeldMessage[] {
    this.isStopped = true;
    return this.lanes.flatMap((lane) => [...lane.coalescer.takeAll(), ...lane.waiting.splice(0).flat()]);
  }

  /** Resolves when every running group settled. */
  async whenIdle(): Promise<void> {
    await Promise.all(this.lanes.map((lane) => lane.running));
  }

  private enqueue(lane: Lane, messages: HeldMessage[]): void {
    const size = this.options.groupSize;
    let rest = messages;
    const last = lane.waiting.at(-1);
    if (last && last.length < size) {
      const room = size - last.length;
      last.push(...rest.slice(0, room));
      rest = rest.slice(room);
    }
    for (let i = 0; i < rest.length; i += size) lane.waiting.push(rest.slice(i, i + size));
    this.startNext(lane);
  }

  private startNext(lane: Lane): void {
    if (this.isStopped || lane.running || !this.options.mayStart() || lane.waiting.length === 0) return;
    const group = lane.waiting.shift() as HeldMessage[];
    lane.running = this.options.runGroup(group).finally(() => {
      lane.running = undefined;
      this.startNext(lane);
    });
  }
}

import type { Clock, Timer } from "../../src/shared/clock.js";

interface Scheduled {
  at: number;
  order: number;
  callback: () => void;
  cancelled: boolean;
}

/** Lets promise callbacks and I/O already completed run before the next timer fires. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A Clock whose time moves only when the test says so: `advance(ms)` fires the timers that fall
 * due, in order, letting pending promise work run between them. (Our own, rather than
 * @sinonjs/fake-timers, because the code takes its clock as a parameter and real I/O must go on.)
 */
export class ManualClock implements Clock {
  private timers: Scheduled[] = [];
  private order = 0;

  constructor(private ms = Date.UTC(2025, 0, 1, 12)) {}

  now(): number {
    return this.ms;
  }

  setTimer(callback: () => void, ms: number): Timer {
    const scheduled: Scheduled = {
      at: this.ms + Math.max(0, ms),
      order: this.order++,
      callback,
      cancelled: false,
    };
    this.timers.push(scheduled);
    return { cancel: () => void (scheduled.cancelled = true) };
  }

  /** Timers waiting to fire. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (and timers those set). */
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    await settle();
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.ms = Math.max(this.ms, due.at);
      due.cancelled = true;
      due.callback();
      await settle();
    }
    this.ms = target;
    await settle();
  }

  /** Moves time forward in steps of `stepMs` until `condition` holds or `maxMs` passed; returns whether it held. */
  async advanceUntil(
    condition: () => boolean,
    options: { stepMs?: number; maxMs: number },
  ): Promise<boolean> {
    const step = options.stepMs ?? 10;
    for (let passed = 0; passed <= options.maxMs; passed += step) {
      if (condition()) return true;
      await this.advance(step);
    }
    return condition();
  }
}

import type { Clock, Timer } from "../../shared/clock.js";

/** Options of the coalescer. */
export interface CoalescerOptions<T> {
  /** Longest wait for the next companions after an addition that asked to keep filling, ms. */
  windowMs: number;
  /** Longest the first waiting item waits in all, ms (bounds the latency under a backlog). */
  maxWaitMs: number;
  /** Most items per hand-off. */
  maxItems: number;
  clock: Clock;
  /** Receives each gathered group; called synchronously, not awaited. */
  onFlush: (items: T[]) => void;
}

/**
 * Gathers items from several producers into one hand-off. Full groups of `maxItems` go at once.
 * An addition that asks to keep filling (a receive that came back full: a backlog) waits up to
 * `windowMs` for more, again after each such addition, but never past `maxWaitMs` from the first
 * waiting item; any other addition (a short or empty receive: the queue has no more for now) hands
 * off what waits at once. So under a backlog groups fill up, and an idle queue adds no latency.
 */
export class Coalescer<T> {
  private pending: T[] = [];
  private timer: Timer | undefined;
  private firstAt = 0;

  constructor(private readonly options: CoalescerOptions<T>) {}

  /** Items waiting for a hand-off. */
  get size(): number {
    return this.pending.length;
  }

  /** Adds items; hands off full groups at once, then the rest now or after the window. */
  add(items: readonly T[], keepFilling: boolean): void {
    const now = this.options.clock.now();
    if (this.pending.length === 0) this.firstAt = now;
    this.pending.push(...items);
    while (this.pending.length >= this.options.maxItems) {
      this.options.onFlush(this.pending.splice(0, this.options.maxItems));
      this.firstAt = now;
    }
    if (this.pending.length === 0) return this.clearTimer();
    if (!keepFilling) return this.flushNow();
    const due = Math.min(now + this.options.windowMs, this.firstAt + this.options.maxWaitMs);
    this.clearTimer();
    this.timer = this.options.clock.setTimer(() => this.flushNow(), Math.max(0, due - now));
  }

  /** Hands off whatever waits now. */
  flushNow(): void {
    this.clearTimer();
    while (this.pending.length > 0) this.options.onFlush(this.pending.splice(0, this.options.maxItems));
  }

  /** Takes everything that waits without handing it off (used when draining). */
  takeAll(): T[] {
    this.clearTimer();
    return this.pending.splice(0);
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

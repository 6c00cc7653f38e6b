import type { Clock, Timer } from "../../shared/clock.js";

/**
 * Gathers items from several producers into one hand-off: flushes `maxItems` at once as soon as
 * that many wait, otherwise `windowMs` after the first item arrived, or at once on `flushNow`.
 */
export class Coalescer<T> {
  private pending: T[] = [];
  private timer: Timer | undefined;

  constructor(
    private readonly options: {
      /** Longest wait for companions after the first item, in ms. */
      windowMs: number;
      /** Most items per hand-off. */
      maxItems: number;
      clock: Clock;
      /** Receives each gathered group; called synchronously, not awaited. */
      onFlush: (items: T[]) => void;
    },
  ) {}

  /** Items waiting for a hand-off. */
  get size(): number {
    return this.pending.length;
  }

  /** Adds items; hands off full groups at once and arms the window for the rest. */
  add(items: readonly T[]): void {
    this.pending.push(...items);
    while (this.pending.length >= this.options.maxItems) {
      this.options.onFlush(this.pending.splice(0, this.options.maxItems));
    }
    if (this.pending.length === 0) this.clearTimer();
    else this.timer ??= this.options.clock.setTimer(() => this.flushNow(), this.options.windowMs);
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

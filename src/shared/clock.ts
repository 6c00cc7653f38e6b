/** A timer set through a Clock; `cancel` is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * Source of the current time and of timers, injected so tests can control both (a manual clock
 * fires timers when the test moves time forward). Everything that waits goes through it.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Calls `callback` once, `ms` from now. With `keepsAlive: false` (the default) the timer does not
   * keep the process running on its own.
   */
  setTimer(callback: () => void, ms: number, options?: { keepsAlive?: boolean }): Timer;
}

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms, options) {
    const handle = setTimeout(callback, Math.max(0, ms));
    if (!options?.keepsAlive) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms` on `clock`, or as soon as `signal` aborts (without throwing). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimer(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      ms,
      { keepsAlive: true },
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** True when `work` settles within `ms` on `clock`, false otherwise; the timer is cancelled either way. */
export async function settlesWithin(clock: Clock, work: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([work.then(() => true), sleep(clock, ms, timer.signal).then(() => false)]);
  } finally {
    timer.abort();
  }
}

/** Calls `tick` every `ms` until the returned timer is cancelled; a tick never overlaps the previous one. */
export function every(clock: Clock, ms: number, tick: () => Promise<void> | void): Timer {
  let current: Timer | undefined;
  let cancelled = false;
  const schedule = () => {
    current = clock.setTimer(() => {
      void Promise.resolve()
        .then(tick)
        .catch(() => undefined)
        .finally(() => {
          if (!cancelled) schedule();
        });
    }, ms);
  };
  schedule();
  return {
    cancel() {
      cancelled = true;
      current?.cancel();
    },
  };
}

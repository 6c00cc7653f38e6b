import { sleep, type Clock } from "../../shared/clock.js";
import type { FailureScope } from "../../shared/errors.js";
import type { Logger } from "../../shared/logger.js";
import type { Metrics } from "../../shared/metrics.js";
import { describeError } from "./describe-error.js";

/** Why the worker stopped consuming: a failure whose scope is not one record's. */
export type PauseScope = Exclude<FailureScope, "record">;

/** The metric label and readiness reason of each pause. */
export const PAUSE_REASON: Record<PauseScope, string> = {
  outage: "salesforce_unavailable",
  api_limit: "api_limit_exhausted",
  org: "org_refuses_writes",
};

/** How often a paused worker probes, by scope: first wait, then the longest wait, ms. */
export interface ProbeSchedule {
  firstMs: number;
  maxMs: number;
}

/**
 * Default probe schedules: an outage is probed every second or two, so the backlog resumes within
 * seconds of Salesforce answering again; a spent daily allowance every minute (usage falls
 * slowly, and each probe is an API call); an org-wide refusal (a mapping, permission or
 * maintenance problem an admin must fix) every 15 s up to a minute.
 */
export const DEFAULT_PROBE_SCHEDULES: Record<PauseScope, ProbeSchedule> = {
  outage: { firstMs: 1_000, maxMs: 2_000 },
  api_limit: { firstMs: 60_000, maxMs: 60_000 },
  org: { firstMs: 15_000, maxMs: 60_000 },
};

/** Options of the pause gate. */
export interface PauseGateOptions {
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Resolves true when Salesforce would take work again for this scope (never writes a record). */
  probe(scope: PauseScope): Promise<boolean>;
  /** Called once the gate closes again, to resume receiving and to send the parked messages. */
  onResume(): void;
  schedules?: Partial<Record<PauseScope, ProbeSchedule>>;
}

/**
 * A circuit breaker for the whole worker: the first failure that is not about one record (an
 * outage, the org's daily limit, an org-wide refusal) pauses consuming once, for every message,
 * instead of each message backing off on its own. While paused it probes on a schedule; the first
 * probe that passes resumes at once. Readiness reports the pause and its reason; a gauge counts it.
 */
export class PauseGate {
  private paused:
    { scope: PauseScope; reason: string; detail: string | undefined; since: number } | undefined;
  private readonly schedules: Record<PauseScope, ProbeSchedule>;
  private stopped = new AbortController();

  constructor(private readonly options: PauseGateOptions) {
    this.schedules = { ...DEFAULT_PROBE_SCHEDULES, ...options.schedules };
    for (const scope of Object.keys(PAUSE_REASON) as PauseScope[])
      options.metrics.workerPaused.set({ reason: PAUSE_REASON[scope] }, 0);
  }

  /** True while consuming is paused. */
  isPaused(): boolean {
    return this.paused !== undefined;
  }

  /** The pause, for readiness: its reason and what the failure said. */
  current(): { reason: string; detail?: string; sinceMs: number } | undefined {
    if (!this.paused) return undefined;
    const { reason, detail, since } = this.paused;
    return { reason, ...(detail === undefined ? {} : { detail }), sinceMs: since };
  }

  /**
   * Pauses for `scope` unless already paused (a more serious scope takes over the reason: an
   * org-wide refusal outranks a spent allowance, which outranks an outage), and starts probing.
   */
  pause(scope: PauseScope, detail?: string): void {
    const rank: PauseScope[] = ["outage", "api_limit", "org"];
    if (this.paused && rank.indexOf(this.paused.scope) >= rank.indexOf(scope)) return;
    const wasPaused = this.paused !== undefined;
    if (this.paused) this.options.metrics.workerPaused.set({ reason: this.paused.reason }, 0);
    this.paused = { scope, reason: PAUSE_REASON[scope], detail, since: this.options.clock.now() };
    this.options.metrics.workerPaused.set({ reason: PAUSE_REASON[scope] }, 1);
    this.options.logger.error("worker paused: it stops consuming until Salesforce takes work again", {
      reason: PAUSE_REASON[scope],
      ...(detail === undefined ? {} : { detail }),
    });
    if (!wasPaused) void this.probeUntilResumed();
  }

  /** Stops probing (on shutdown). */
  stop(): void {
    this.stopped.abort();
  }

  private async probeUntilResumed(): Promise<void> {
    for (let attempt = 0; this.paused && !this.stopped.signal.aborted; attempt++) {
      const { scope } = this.paused;
      const schedule = this.schedules[scope];
      await sleep(
        this.options.clock,
        Math.min(schedule.firstMs * 2 ** attempt, schedule.maxMs),
        this.stopped.signal,
      );
      if (!this.paused || this.stopped.signal.aborted) return;
      let passed = false;
      try {
        passed = await this.options.probe(this.paused.scope);
      } catch (error) {
        // What the probe found is the news now (e.g. which mapped field the org lacks).
        this.paused.detail = describeError(error);
        this.options.logger.warn("pause probe failed", {
          reason: this.paused.reason,
          error: describeError(error),
        });
      }
      if (passed && this.paused) {
        const { reason, since } = this.paused;
        this.options.metrics.workerPaused.set({ reason }, 0);
        this.paused = undefined;
        this.options.logger.info("worker resumed", { reason, pausedMs: this.options.clock.now() - since });
        this.options.onResume();
      }
    }
  }
}

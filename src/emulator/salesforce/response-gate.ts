import type { ServerResponse } from "node:http";

/** Answers held back by `hold_after_write` and requests left hanging by `hang`. */
export class ResponseGate {
  private held: Array<() => void> = [];
  private readonly hung = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];

  /** Keeps `send` until `releaseHeld`; wakes whoever waits for a held answer. */
  hold(send: () => void): void {
    this.held.push(send);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Sends every held answer (to clients still connected); resolves how many there were. */
  releaseHeld(): number {
    const held = this.held;
    this.held = [];
    for (const send of held) send();
    return held.length;
  }

  /** How many answers are held now. */
  heldCount(): number {
    return this.held.length;
  }

  /** Resolves as soon as an answer is being held (at once if one already is). */
  waitForHeld(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Leaves `response` unanswered until `releaseHung` (or the server stops). */
  hang(response: ServerResponse): void {
    this.hung.add(response);
    response.once("close", () => this.hung.delete(response));
  }

  /** Closes the connections of every hanging request, without an answer, as a dead peer would. */
  releaseHung(): void {
    for (const response of this.hung) response.destroy();
    this.hung.clear();
  }

  /** Forgets held answers without sending them (the server is stopping). */
  dropAll(): void {
    this.held = [];
    this.releaseHung();
  }
}

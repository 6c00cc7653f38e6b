/** A named readiness probe, e.g. `sqs` or `redis`. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

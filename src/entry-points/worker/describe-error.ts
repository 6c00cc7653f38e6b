/** A log-friendly `name: message` of any thrown value (winston's JSON drops an Error nested in meta). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

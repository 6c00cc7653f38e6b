import { existsSync } from "node:fs";
import { freePort, startChild, type ChildServer } from "./child-server.js";

/** stripe-mock from STRIPE_MOCK_BIN, .tmp/bin (scripts/test-setup.sh puts it there), or PATH. */
export function stripeMockBinary(): string | undefined {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  const local = new URL("../../.tmp/bin/stripe-mock", import.meta.url).pathname;
  if (existsSync(local)) return local;
  const onPath = (process.env.PATH ?? "").split(":").map((dir) => `${dir}/stripe-mock`);
  return onPath.find((candidate) => existsSync(candidate));
}

/** A running stripe-mock and the API base to give the Stripe SDK. */
export interface StripeMock extends ChildServer {
  apiBase: string;
}

/**
 * Starts stripe-mock on a free port, or returns undefined when it is not installed (CI installs it;
 * set CI to make a missing binary an error).
 */
export async function startStripeMock(): Promise<StripeMock | undefined> {
  const binary = stripeMockBinary();
  if (!binary) {
    if (process.env.CI) throw new Error("stripe-mock is required in CI (scripts/test-setup.sh installs it)");
    return undefined;
  }
  const port = await freePort();
  const apiBase = `http://127.0.0.1:${port}`;
  const server = await startChild(binary, ["-http-port", String(port)], {
    name: "stripe-mock",
    port,
    // Ready when it answers an API call (a bare TCP probe can be fooled by nock's interception).
    ready: async () =>
      (await fetch(`${apiBase}/v1/customers/cus_probe`, { headers: { authorization: "Bearer sk_test_123" } }))
        .status === 200,
  });
  return { ...server, apiBase };
}

import { readFileSync } from "node:fs";
import { expect } from "chai";
import { HANDLED_EVENT_TYPES } from "../../src/domain/sync/event-handlers.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The text of the README section under `heading`, up to the next heading of its level. */
function section(heading: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, `README has a section "${heading}"`).to.be.greaterThan(-1);
  const level = heading.split(" ")[0]!;
  const end = README.indexOf(`\n${level} `, start + heading.length + 2);
  return README.slice(start, end === -1 ? undefined : end);
}

describe("the README stands on its own", () => {
  it('"Configure Stripe" lists exactly the event types the worker handles', () => {
    const listed = [...section("## Configure Stripe").matchAll(/^\s+- `([a-z_.]+)`$/gm)].map((m) => m[1]);
    expect(listed).to.have.members([...HANDLED_EVENT_TYPES]);
    expect(listed).to.have.length(HANDLED_EVENT_TYPES.size);
  });

  it('"Events from Amazon EventBridge": the rule and the event destination name exactly the handled types', () => {
    const text = section("## Events from Amazon EventBridge");
    const rule = text.match(/"detail-type" = \[([^\]]+)\]/)?.[1] ?? "";
    const destination = text.match(/"enabled_events": \[([^\]]+)\]/)?.[1] ?? "";
    for (const list of [rule, destination]) {
      const types = [...list.matchAll(/"([a-z_.]+)"/g)].map((m) => m[1]);
      expect(types).to.have.members([...HANDLED_EVENT_TYPES]);
      expect(types).to.have.length(HANDLED_EVENT_TYPES.size);
    }
  });

  it('"Events from Amazon EventBridge": the queue admits EventBridge only for the rule', () => {
    const text = section("## Events from Amazon EventBridge");
    expect(text).to.match(/Principal = \{ Service = "events\.amazonaws\.com" \}/);
    expect(text).to.match(
      /ArnEquals = \{ "aws:SourceArn" = aws_cloudwatch_event_rule\.stripe_events\.arn \}/,
    );
  });

  it("links to nothing outside the repository", () => {
    const links = [...README.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.filter((link) => link.startsWith("../") || link.startsWith("/"))).to.deep.equal([]);
  });
});

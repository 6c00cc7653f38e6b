import { ManualClock } from "../support/manual-clock.js";
import { expect } from "chai";
import {
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  computeRetryDelaySeconds,
} from "../../src/entry-points/worker/backoff.js";
import { Coalescer } from "../../src/entry-points/worker/coalescer.js";

describe("worker: retry backoff", () => {
  const lowest = () => 0;
  const highest = () => 0.999999;

  it("doubles from 30 s per receive up to 900 s, jittered between half and all of it", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => computeRetryDelaySeconds(n, { random: highest }))).to.deep.equal([
      30, 60, 120, 240, 480, 900, 900,
    ]);
    expect([1, 2, 6].map((n) => computeRetryDelaySeconds(n, { random: lowest }))).to.deep.equal([
      15, 30, 450,
    ]);
  });

  it("waits at least as long as the peer asked (Retry-After), but never past the 12 h SQS allows", () => {
    expect(computeRetryDelaySeconds(1, { random: lowest, retryAfterSeconds: 3600 })).to.equal(3600);
    expect(computeRetryDelaySeconds(1, { random: highest, retryAfterSeconds: 5 })).to.equal(30);
    expect(computeRetryDelaySeconds(1, { retryAfterSeconds: 10 ** 9 })).to.equal(
      MAX_VISIBILITY_TIMEOUT_SECONDS,
    );
  });

  it("treats a missing or odd receive count as the first receive", () => {
    expect(computeRetryDelaySeconds(0, { random: highest })).to.equal(30);
    expect(computeRetryDelaySeconds(Number.NaN, { random: highest })).to.be.within(15, 900);
  });
});

describe("worker: coalescer", () => {
  function recording(windowMs: number, maxItems: number) {
    const groups: number[][] = [];
    const clock = new ManualClock();
    const coalescer = new Coalescer<number>({
      windowMs,
      maxItems,
      clock,
      onFlush: (items) => void groups.push(items),
    });
    return { groups, coalescer, clock };
  }

  it("hands items that arrive within the window over together", async () => {
    const { groups, coalescer, clock } = recording(25, 200);
    coalescer.add([1, 2]);
    await clock.advance(10);
    coalescer.add([3]);
    expect(groups).to.deep.equal([]);
    await clock.advance(15);
    expect(groups).to.deep.equal([[1, 2, 3]]);
  });

  it("hands a full group over at once without waiting for the window", async () => {
    const { groups, coalescer, clock } = recording(25, 3);
    coalescer.add([1, 2, 3, 4]);
    expect(groups).to.deep.equal([[1, 2, 3]]);
    await clock.advance(25);
    expect(groups).to.deep.equal([[1, 2, 3], [4]]);
  });

  it("gives back what waits when draining, and hands none of it over", async () => {
    const { groups, coalescer, clock } = recording(25, 200);
    coalescer.add([1, 2]);
    expect(coalescer.takeAll()).to.deep.equal([1, 2]);
    await clock.advance(100);
    expect(groups).to.deep.equal([]);
  });
});

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
  function recording(windowMs: number, maxItems: number, maxWaitMs = 1000) {
    const groups: number[][] = [];
    const clock = new ManualClock();
    const coalescer = new Coalescer<number>({
      windowMs,
      maxWaitMs,
      maxItems,
      clock,
      onFlush: (items) => void groups.push(items),
    });
    return { groups, coalescer, clock };
  }

  it("while receives come back full, keeps filling within the window of each", async () => {
    const { groups, coalescer, clock } = recording(25, 200);
    coalescer.add([1, 2], true);
    await clock.advance(20);
    coalescer.add([3], true);
    await clock.advance(20);
    expect(groups, "each full receive waits another window").to.deep.equal([]);
    await clock.advance(5);
    expect(groups).to.deep.equal([[1, 2, 3]]);
  });

  it("a short receive hands over what waits at once: an idle queue adds no latency", () => {
    const { groups, coalescer } = recording(25, 200);
    coalescer.add([1, 2], true);
    coalescer.add([3], false);
    expect(groups).to.deep.equal([[1, 2, 3]]);
  });

  it("under a steady backlog, the first message waits no longer than the fill bound", async () => {
    const { groups, coalescer, clock } = recording(25, 1000, 100);
    for (let i = 0; i < 10; i++) {
      coalescer.add([i], true);
      await clock.advance(15);
    }
    expect(groups[0]).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });

  it("hands a full group over at once without waiting for the window", async () => {
    const { groups, coalescer, clock } = recording(25, 3);
    coalescer.add([1, 2, 3, 4], true);
    expect(groups).to.deep.equal([[1, 2, 3]]);
    await clock.advance(25);
    expect(groups).to.deep.equal([[1, 2, 3], [4]]);
  });

  it("gives back what waits when draining, and hands none of it over", async () => {
    const { groups, coalescer, clock } = recording(25, 200);
    coalescer.add([1, 2], true);
    expect(coalescer.takeAll()).to.deep.equal([1, 2]);
    await clock.advance(100);
    expect(groups).to.deep.equal([]);
  });
});

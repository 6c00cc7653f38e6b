import { expect } from "chai";
import type { BatchAnswer, BatchEntry } from "../../src/data-access/sqs/batch-sender.js";
import { SqsEnqueueBatcher } from "../../src/data-access/sqs/sqs-enqueue-batcher.js";
import type { QueueMessage } from "../../src/domain/ingest/event-queue.js";
import { createMetrics } from "../../src/shared/metrics.js";

const message = (i: number): QueueMessage => ({
  body: `{"id":"evt_${i}"}`,
  attributes: { event_id: `evt_${i}` },
  sizeBytes: 40,
  eventId: `evt_${i}`,
  orderingKey: `cus_${i}`,
});

/** A SendMessageBatch stand-in whose calls stay in flight until the test answers them. */
function heldSender() {
  const calls: { entries: readonly BatchEntry[]; answer: () => void }[] = [];
  const send = (entries: readonly BatchEntry[]) =>
    new Promise<BatchAnswer>((resolve) =>
      calls.push({
        entries,
        answer: () => resolve({ succeeded: new Set(entries.map((e) => e.id)), failed: new Map() }),
      }),
    );
  return { calls, send };
}

/** A batcher sending through `sender`, with the given window. */
const batcherOf = (sender: ReturnType<typeof heldSender>, windowMs: number) =>
  new SqsEnqueueBatcher({
    send: sender.send,
    queueUrl: "http://sqs/q",
    maxMessageBytes: async () => 262_144,
    metrics: createMetrics({ collectDefaults: false }),
    windowMs,
  });

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the enqueue batcher under load", () => {
  it("a lone message leaves when its window ends", async () => {
    const sender = heldSender();
    const batcher = batcherOf(sender, 1);
    const done = batcher.enqueue(message(1));
    await tick(20);
    expect(sender.calls).to.have.length(1);
    sender.calls[0]!.answer();
    await done;
  });

  it("with a window of 0, messages of the same turn share a call that leaves without a timer", async () => {
    const sender = heldSender();
    const batcher = batcherOf(sender, 0);
    const settled = [1, 2, 3].map((i) => batcher.enqueue(message(i)));
    expect(sender.calls, "nothing sent within the turn").to.have.length(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sender.calls.map((c) => c.entries.length)).to.deep.equal([3]);
    settled.push(batcher.enqueue(message(4)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sender.calls.map((c) => c.entries.length)).to.deep.equal([3, 1]);
    for (const call of sender.calls) call.answer();
    await Promise.all(settled);
  });

  it("while two calls are in flight, a partial batch keeps filling until one of them returns", async () => {
    const sender = heldSender();
    const batcher = batcherOf(sender, 1);
    const settled: Promise<void>[] = [];
    settled.push(batcher.enqueue(message(1)));
    await tick(20);
    settled.push(batcher.enqueue(message(2)));
    await tick(20);
    expect(sender.calls.map((c) => c.entries.length)).to.deep.equal([1, 1]);
    for (let i = 3; i <= 7; i++) settled.push(batcher.enqueue(message(i)));
    await tick(20);
    expect(sender.calls, "no third call while two are in flight").to.have.length(2);
    sender.calls[0]!.answer();
    await tick(5);
    expect(sender.calls.map((c) => c.entries.length)).to.deep.equal([1, 1, 5]);
    // A full batch never waits.
    for (let i = 8; i <= 17; i++) settled.push(batcher.enqueue(message(i)));
    expect(sender.calls.at(-1)?.entries).to.have.length(10);
    for (const call of sender.calls) call.answer();
    await Promise.all(settled);
  });
});

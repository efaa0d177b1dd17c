import assert from "assert";
import { learnFromAnswer, rateWait, type RateMemory } from "../../provider/http/concurrency";

const fresh = (): RateMemory => ({ admitted: [], answered: [] });

/** Admits requests at `starts` and answers them with `outcome`, at `answeredAt`. */
function traffic(
  memory: RateMemory,
  starts: number[],
  outcome: "ok" | "throttled",
  answeredAt: number,
): void {
  for (const start of starts) memory.admitted.push(start);
  for (const start of starts) learnFromAnswer(memory, outcome, start, answeredAt);
}

const range = (from: number, count: number, step = 10): number[] =>
  Array.from({ length: count }, (_, i) => from + i * step);

describe("rate memory of the request gate", () => {
  it("does not pace before any 429, however many requests run", () => {
    const memory = fresh();
    traffic(memory, range(0, 50, 1), "ok", 60);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    assert.strictEqual(rateWait(memory, 60), 0);
  });

  it("learns what got through in the second before a 429 and spaces the next window by it", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 120);
    traffic(memory, [100, 101], "throttled", 150);
    assert.strictEqual(memory.learnedPerWindow, 10);
    // 12 admitted in the last window: the next may start once the 10th newest is 1030 ms old.
    const wait = rateWait(memory, 150);
    assert.strictEqual(150 + wait, 20 + 1000 + 30 + 1);
    assert.strictEqual(rateWait(memory, 150 + wait), 0);
  });

  it("raises the estimate with answers that were still in flight at the 429", () => {
    const memory = fresh();
    traffic(memory, range(0, 8), "ok", 90);
    traffic(memory, [95], "throttled", 100);
    assert.strictEqual(memory.learnedPerWindow, 8);
    traffic(memory, [80, 90], "ok", 110);
    assert.strictEqual(memory.learnedPerWindow, 10);
  });

  it("learns nothing from a 429 that nothing got through before", () => {
    const memory = fresh();
    traffic(memory, [0], "throttled", 10);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    assert.strictEqual(rateWait(memory, 10), 0);
  });

  it("starts over at a later 429 that lets fewer through", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 100);
    traffic(memory, [100], "throttled", 110);
    assert.strictEqual(memory.learnedPerWindow, 10);
    traffic(memory, range(5000, 3), "ok", 5040);
    traffic(memory, [5050], "throttled", 5060);
    assert.strictEqual(memory.learnedPerWindow, 3);
  });

  it("forgets the rate after a minute without a 429", () => {
    const memory = fresh();
    traffic(memory, range(0, 5), "ok", 60);
    traffic(memory, [60], "throttled", 70);
    assert.strictEqual(memory.learnedPerWindow, 5);
    memory.admitted.push(...range(60_000, 5, 1));
    assert.ok(rateWait(memory, 60_005) > 0, "still paced within the minute");
    assert.strictEqual(rateWait(memory, 60_071), 0);
    assert.strictEqual(memory.learnedPerWindow, undefined);
  });
});

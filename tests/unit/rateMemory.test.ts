import assert from "assert";
import { learnFromAnswer, rateWait, type RateMemory } from "../../provider/http/concurrency";

const fresh = (): RateMemory => ({ admitted: [], answered: [] });

/** Requests the gate lets run at once in these tests (its default). */
const IN_FLIGHT = 4;

/** Admits requests at `starts` and answers them with `outcome`, at `answeredAt`. */
function traffic(
  memory: RateMemory,
  starts: number[],
  outcome: "ok" | "throttled",
  answeredAt: number,
): void {
  for (const start of starts) memory.admitted.push(start);
  for (const start of starts) learnFromAnswer(memory, outcome, start, answeredAt, IN_FLIGHT);
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

  it("starts over at a later saturated 429 that lets fewer through", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 100);
    traffic(memory, [100], "throttled", 110);
    assert.strictEqual(memory.learnedPerWindow, 10);
    traffic(memory, range(5000, 3), "ok", 5040);
    traffic(memory, [5050, 5051], "throttled", 5060);
    assert.strictEqual(memory.learnedPerWindow, 3);
  });

  it("forgets the rate after a minute without a 429", () => {
    const memory = fresh();
    traffic(memory, range(0, 5), "ok", 60);
    traffic(memory, [60], "throttled", 70);
    assert.strictEqual(memory.learnedPerWindow, 5);
    assert.strictEqual(rateWait(memory, 60_071), 0);
    assert.strictEqual(memory.learnedPerWindow, undefined);
  });

  it("a stray 429 after one OK at low traffic does not pace", () => {
    const memory = fresh();
    traffic(memory, [0], "ok", 50);
    traffic(memory, [60], "throttled", 110);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    memory.admitted.push(...range(120, 20, 1));
    assert.strictEqual(rateWait(memory, 140), 0);
  });

  it("a stray 429 in the first burst of parallel requests does not pace, even after its neighbours answer", () => {
    const memory = fresh();
    // Four requests start together (all the gate lets run); one is answered 429 before the others.
    memory.admitted.push(0, 0, 0, 0);
    learnFromAnswer(memory, "ok", 0, 50, IN_FLIGHT);
    assert.strictEqual(learnFromAnswer(memory, "throttled", 0, 51, IN_FLIGHT), false);
    learnFromAnswer(memory, "ok", 0, 52, IN_FLIGHT);
    learnFromAnswer(memory, "ok", 0, 53, IN_FLIGHT);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    memory.admitted.push(...range(60, 30, 1));
    assert.strictEqual(rateWait(memory, 90), 0);
  });

  it("a second 429 soon after a first one confirms a low limit", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "ok", 50);
    traffic(memory, [2], "throttled", 52);
    assert.strictEqual(memory.learnedPerWindow, undefined, "one 429 alone is not evidence");
    memory.admitted.push(1100, 1101, 1102);
    learnFromAnswer(memory, "ok", 1100, 1150, IN_FLIGHT);
    learnFromAnswer(memory, "ok", 1101, 1150, IN_FLIGHT);
    assert.strictEqual(learnFromAnswer(memory, "throttled", 1102, 1152, IN_FLIGHT), true);
    assert.strictEqual(memory.learnedPerWindow, 2);
  });

  it("a real sustained limit is still learned, and no faster than it allows", () => {
    // 20 requests/s offered against a limit of 8 per second, as the gate admits them.
    const memory = fresh();
    for (let start = 0; start < 1000; start += 50) {
      const inWindow = memory.answered.filter((time) => time > start - 1000).length;
      traffic(memory, [start], inWindow < 8 ? "ok" : "throttled", start + 40);
      if (memory.learnedPerWindow !== undefined) break;
    }
    assert.strictEqual(memory.learnedPerWindow, 8);
    // Paced from now on, until the rate starts to climb again: at most 8 start in any second.
    const paced: number[] = [];
    for (let now = 440; now < 1440;) {
      const wait = rateWait(memory, now);
      if (wait === 0) {
        memory.admitted.push(now);
        paced.push(now);
      }
      now += Math.max(1, wait);
    }
    assert.ok(paced.length > 0, "pacing stopped every request");
    for (const start of paced) {
      const inSecond = memory.admitted.filter((time) => time > start - 1000 && time <= start);
      assert.ok(inSecond.length <= 8, `${inSecond.length} started in the second before ${start}`);
    }
  });

  it("a lower guess climbs back by one per window without a 429, to what got through before", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 120); // 10 got through in one window
    // Later someone else shares the limit: a saturated window lets only 5 through.
    traffic(memory, range(3000, 5), "ok", 3060);
    traffic(memory, [3060], "throttled", 3070);
    assert.strictEqual(memory.learnedPerWindow, 5);
    rateWait(memory, 3070 + 999);
    assert.strictEqual(memory.learnedPerWindow, 5, "not within the first window");
    rateWait(memory, 3070 + 1000);
    assert.strictEqual(memory.learnedPerWindow, 6);
    rateWait(memory, 3070 + 5000);
    assert.strictEqual(memory.learnedPerWindow, 10);
    rateWait(memory, 3070 + 20_000);
    assert.strictEqual(
      memory.learnedPerWindow,
      10,
      "no probing above a limit seen within the minute",
    );
  });

  it("a low rate confirmed at low traffic climbs without a ceiling until a 429 stops it", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "ok", 50);
    traffic(memory, [2], "throttled", 52);
    traffic(memory, [1100, 1101], "ok", 1150);
    traffic(memory, [1102], "throttled", 1152);
    assert.strictEqual(memory.learnedPerWindow, 2);
    rateWait(memory, 1152 + 10_000);
    assert.strictEqual(memory.learnedPerWindow, 12);
    memory.admitted.push(...range(11_200, 11, 10));
    assert.strictEqual(rateWait(memory, 11_310), 0, "a 12th may start in this window");
    memory.admitted.push(11_310);
    assert.ok(rateWait(memory, 11_311) > 0, "a 13th may not");
  });

  it("a 429 holds the climb back", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "ok", 50);
    traffic(memory, [2], "throttled", 52);
    traffic(memory, [1100, 1101], "ok", 1150);
    traffic(memory, [1102], "throttled", 1152);
    rateWait(memory, 3152);
    assert.strictEqual(memory.learnedPerWindow, 4);
    // A stray-looking 429 (a thin window, the last 429 long ago) is not learned from ...
    traffic(memory, [8000], "throttled", 8010);
    const held = memory.learnedPerWindow;
    // ... but the climb starts again from it.
    rateWait(memory, 8010 + 999);
    assert.strictEqual(memory.learnedPerWindow, held);
    rateWait(memory, 8010 + 1000);
    assert.strictEqual(memory.learnedPerWindow, held! + 1);
  });
});

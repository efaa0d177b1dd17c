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

/** Two windows at low traffic, each ending in a 429 after 2 got through: a limit of 2 per window, confirmed at 1152. */
function confirmedAtTwoPerWindow(): RateMemory {
  const memory = fresh();
  traffic(memory, [0, 1], "ok", 50);
  traffic(memory, [2], "throttled", 52);
  traffic(memory, [1100, 1101], "ok", 1150);
  traffic(memory, [1102], "throttled", 1152);
  return memory;
}

const range = (from: number, count: number, step = 10): number[] =>
  Array.from({ length: count }, (_, i) => from + i * step);

/** What the simulated server answers the `index`-th request (from 1) it receives, at `start`. */
type Server = (start: number, index: number) => { throttled: boolean; retryAfterMs?: number };

interface Simulation {
  /** Requests that must be answered OK; a throttled one is sent again. */
  requests: number;
  /** Requests in flight at once (the gate's slots). */
  concurrency: number;
  latencyMs: number;
  server: Server;
  memory?: RateMemory;
  startAt?: number;
  /** One request after another (each waits for the previous answer), instead of all at once. */
  sequential?: boolean;
  /** Wait of a throttled request without Retry-After before it is sent again. */
  backoffMs?: number;
}

/**
 * Runs requests through a simulated gate in virtual time, as `sharedRequestGate` runs them:
 * slots, the pause set by a Retry-After (or by a 429 taken as a sign of the limit), the
 * learned rate. Returns when each request started and when the last answer arrived.
 */
function simulate(sim: Simulation): {
  memory: RateMemory;
  starts: number[];
  throttled: number;
  end: number;
} {
  const memory = sim.memory ?? fresh();
  const backoffMs = sim.backoffMs ?? 250;
  let now = sim.startAt ?? 0;
  let pausedUntil = 0;
  let active = 0;
  let served = 0;
  let throttled = 0;
  let index = 0;
  let end = now;
  const starts: number[] = [];
  /** When each request that is not in flight may be sent. */
  const ready: number[] = Array.from({ length: sim.sequential ? 1 : sim.requests }, () => now);
  let notYetQueued = sim.sequential ? sim.requests - 1 : 0;
  const inFlight: { at: number; start: number; throttled: boolean; retryAfterMs?: number }[] = [];
  while (served < sim.requests) {
    inFlight.sort((a, b) => a.at - b.at);
    while (inFlight.length > 0 && inFlight[0].at <= now) {
      const answer = inFlight.shift()!;
      active--;
      end = Math.max(end, answer.at);
      const limitSeen = learnFromAnswer(
        memory,
        answer.throttled ? "throttled" : "ok",
        answer.start,
        answer.at,
      );
      if (answer.throttled) {
        throttled++;
        const wait = answer.retryAfterMs ?? backoffMs;
        if (answer.retryAfterMs !== undefined || limitSeen) {
          pausedUntil = Math.max(pausedUntil, answer.at + wait);
        }
        ready.push(answer.at + wait);
      } else {
        served++;
        if (notYetQueued > 0) {
          notYetQueued--;
          ready.push(answer.at);
        }
      }
    }
    ready.sort((a, b) => a - b);
    let next = inFlight.length > 0 ? Math.min(...inFlight.map((a) => a.at)) : Infinity;
    if (ready.length > 0 && ready[0] <= now && active < sim.concurrency) {
      const wait = Math.max(pausedUntil - now, rateWait(memory, now));
      if (wait <= 0) {
        ready.shift();
        memory.admitted.push(now);
        starts.push(now);
        active++;
        const answer = sim.server(now, ++index);
        inFlight.push({ at: now + sim.latencyMs, start: now, ...answer });
        continue;
      }
      next = Math.min(next, now + wait);
    } else if (ready.length > 0 && ready[0] > now) {
      next = Math.min(next, ready[0]);
    }
    if (next === Infinity) break;
    now = next;
  }
  return { memory, starts, throttled, end };
}

/** Answers every request OK, except the one after the first `after`, which it answers 429 (no Retry-After). */
const strayAfter =
  (after: number): Server =>
  (_start, index) => ({ throttled: index === after + 1 });

/** A limit of `perSecond` requests in fixed one-second windows, 429 with Retry-After: 1 beyond, as the emulator. */
function limitedServer(perSecond: number): Server {
  let windowStart = -Infinity;
  let count = 0;
  return (start) => {
    if (start - windowStart >= 1000) {
      windowStart = start;
      count = 0;
    }
    count++;
    return count > perSecond ? { throttled: true, retryAfterMs: 1000 } : { throttled: false };
  };
}

describe("rate memory of the request gate", () => {
  it("does not pace before any 429, however many requests run", () => {
    const memory = fresh();
    traffic(memory, range(0, 50, 1), "ok", 60);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    assert.strictEqual(rateWait(memory, 60), 0);
  });

  describe("a single stray 429 never teaches a rate", () => {
    for (const concurrency of [1, 4]) {
      for (const sequential of concurrency === 1 ? [false, true] : [false]) {
        for (const after of [1, 5, 20]) {
          const how = sequential ? "sequential requests" : `${concurrency} in flight`;
          it(`after ${after} OK answers, ${how}`, () => {
            const run = (server: Server) =>
              simulate({ requests: 200, concurrency, latencyMs: 50, server, sequential });
            const clean = run(() => ({ throttled: false }));
            const stray = run(strayAfter(after));
            assert.strictEqual(stray.throttled, 1);
            assert.strictEqual(stray.memory.learnedPerWindow, undefined);
            // Only the throttled request waits its backoff; nothing else is held back.
            assert.ok(
              stray.end <= clean.end + 250 + 2 * 50,
              `${stray.end} ms after a stray 429, ${clean.end} ms without`,
            );
          });
        }
      }
    }
  });

  it("a stray 429 in the first burst of parallel requests does not pace, even after its neighbours answer", () => {
    const memory = fresh();
    // Four requests start together (all the gate lets run); one is answered 429 before the others.
    memory.admitted.push(0, 0, 0, 0);
    learnFromAnswer(memory, "ok", 0, 50);
    assert.strictEqual(learnFromAnswer(memory, "throttled", 0, 51), false);
    learnFromAnswer(memory, "ok", 0, 52);
    learnFromAnswer(memory, "ok", 0, 53);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    memory.admitted.push(...range(60, 30, 1));
    assert.strictEqual(rateWait(memory, 90), 0);
  });

  it("a stray 429 while a learned rate is not in use does not lower it", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 120);
    traffic(memory, [100, 101], "throttled", 150);
    assert.strictEqual(memory.learnedPerWindow, 10);
    // Five seconds later, two requests a second, then a 429 (the last one long ago).
    traffic(memory, [5000, 5500], "ok", 5550);
    traffic(memory, [5600], "throttled", 5650);
    assert.ok(memory.learnedPerWindow! >= 10, `lowered to ${memory.learnedPerWindow}`);
    assert.strictEqual(memory.ceilingPerWindow, undefined);
  });

  it("learns what got through in the second before two 429s and spaces the next window by it", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 120);
    traffic(memory, [100, 101], "throttled", 150);
    assert.strictEqual(memory.learnedPerWindow, 10);
    // 12 admitted in the last window: the next may start once the 10th newest is 1030 ms old.
    const wait = rateWait(memory, 150);
    assert.strictEqual(150 + wait, 20 + 1000 + 30 + 1);
    assert.strictEqual(rateWait(memory, 150 + wait), 0);
  });

  it("raises the estimate with answers that were still in flight at the 429s", () => {
    const memory = fresh();
    traffic(memory, range(0, 8), "ok", 90);
    traffic(memory, [95, 96], "throttled", 100);
    assert.strictEqual(memory.learnedPerWindow, 8);
    traffic(memory, [80, 90], "ok", 110);
    assert.strictEqual(memory.learnedPerWindow, 10);
  });

  it("learns nothing from 429s that nothing got through before", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "throttled", 10);
    assert.strictEqual(memory.learnedPerWindow, undefined);
    assert.strictEqual(rateWait(memory, 10), 0);
  });

  it("a second 429 soon after a first one confirms a low limit", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "ok", 50);
    traffic(memory, [2], "throttled", 52);
    assert.strictEqual(memory.learnedPerWindow, undefined, "one 429 alone is not evidence");
    memory.admitted.push(1100, 1101, 1102);
    learnFromAnswer(memory, "ok", 1100, 1150);
    learnFromAnswer(memory, "ok", 1101, 1150);
    assert.strictEqual(learnFromAnswer(memory, "throttled", 1102, 1152), true);
    assert.strictEqual(memory.learnedPerWindow, 2);
  });

  it("two 429s far apart confirm nothing", () => {
    const memory = fresh();
    traffic(memory, [0, 1], "ok", 50);
    traffic(memory, [2], "throttled", 52);
    traffic(memory, range(4000, 5), "ok", 4100);
    traffic(memory, [4100], "throttled", 4150);
    assert.strictEqual(memory.learnedPerWindow, undefined);
  });

  it("forgets the rate after a minute without a 429", () => {
    const memory = fresh();
    traffic(memory, range(0, 5), "ok", 60);
    traffic(memory, [60, 61], "throttled", 70);
    assert.strictEqual(memory.learnedPerWindow, 5);
    assert.strictEqual(rateWait(memory, 60_071), 0);
    assert.strictEqual(memory.learnedPerWindow, undefined);
  });

  it("a real sustained limit is learned with few 429s and then kept to", () => {
    // 100 requests at once, 4 in flight, against 10 per fixed second (the bench's setup).
    const limited = simulate({
      requests: 300,
      concurrency: 4,
      latencyMs: 50,
      server: limitedServer(10),
    });
    const minimum = (300 / 10 - 1) * 1000 + 50;
    assert.strictEqual(limited.memory.learnedPerWindow, 10);
    assert.ok(limited.throttled <= 12, `${limited.throttled} answers 429`);
    assert.ok(
      limited.end <= minimum * 1.1,
      `took ${limited.end} ms, the limit allows ${minimum} ms`,
    );
  });

  it("a real limit below one request per slot is learned at concurrency 1", () => {
    const limited = simulate({
      requests: 60,
      concurrency: 1,
      latencyMs: 50,
      server: limitedServer(3),
    });
    assert.strictEqual(limited.memory.learnedPerWindow, 3);
    assert.ok(limited.throttled <= 8, `${limited.throttled} answers 429`);
    assert.ok(limited.end <= (60 / 3 - 1) * 1000 * 1.15, `took ${limited.end} ms`);
  });

  it("paces to the learned rate: no window admits more than it", () => {
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

  it("a wrong guess heals within five windows without a 429", () => {
    const memory = confirmedAtTwoPerWindow();
    assert.strictEqual(memory.learnedPerWindow, 2);
    // Then 4 in flight at 100 ms each (40 per window) and no 429 at all.
    const run = simulate({
      requests: 600,
      concurrency: 4,
      latencyMs: 100,
      server: () => ({ throttled: false }),
      memory,
      startAt: 1152,
    });
    // Five windows of 1030 ms (the learned rate's span) and one latency later, it runs unpaced.
    const healedBy = 1152 + 5 * 1030 + 100;
    const after = run.starts.filter((start) => start >= healedBy && start < healedBy + 1000);
    assert.ok(after.length >= 40, `${after.length} started in one window, 40 unpaced`);
  });

  it("a request paced by the learned rate that still meets 429s lowers it and stops the climb there", () => {
    const memory = fresh();
    traffic(memory, range(0, 10), "ok", 120);
    traffic(memory, [100, 101], "throttled", 150);
    assert.strictEqual(memory.learnedPerWindow, 10);
    rateWait(memory, 150 + 1000);
    assert.strictEqual(memory.learnedPerWindow, 20, "doubles after a window without a 429");
    // Paced at 20, but only 7 get through (the limit dropped): 429s again.
    traffic(memory, range(1200, 7), "ok", 1300);
    traffic(memory, [1300, 1301], "throttled", 1350);
    assert.strictEqual(memory.learnedPerWindow, 7);
    assert.strictEqual(memory.ceilingPerWindow, 7);
    rateWait(memory, 1350 + 10_000);
    assert.strictEqual(memory.learnedPerWindow, 7, "no probing above a confirmed limit");
  });

  it("a low rate confirmed at low traffic climbs without a ceiling while no 429 arrives", () => {
    const memory = confirmedAtTwoPerWindow();
    assert.strictEqual(memory.learnedPerWindow, 2);
    rateWait(memory, 1152 + 3000);
    assert.strictEqual(memory.learnedPerWindow, 16);
    memory.admitted.push(...range(4200, 15, 10));
    assert.strictEqual(rateWait(memory, 4400), 0, "a 16th may start in this window");
    memory.admitted.push(4400);
    assert.ok(rateWait(memory, 4401) > 0, "a 17th may not");
  });

  it("a 429 holds the climb back", () => {
    const memory = confirmedAtTwoPerWindow();
    rateWait(memory, 2152);
    assert.strictEqual(memory.learnedPerWindow, 4);
    // A stray-looking 429 (no traffic, the last 429 long ago) is not learned from ...
    traffic(memory, [5000], "throttled", 5010);
    const held = memory.learnedPerWindow!;
    assert.strictEqual(held, 16, "the climb up to the 429 is kept");
    // ... but the climb starts again from it.
    rateWait(memory, 5010 + 999);
    assert.strictEqual(memory.learnedPerWindow, held);
    rateWait(memory, 5010 + 1000);
    assert.strictEqual(memory.learnedPerWindow, held * 2);
  });
});

/**
 * A process-wide gate in front of every Upstash request.
 *
 * The dynamic-provider host loads one copy of the provider per distinct
 * serialized text and runs every resource's operations in one process, so
 * `pulumi up --parallel 50` means 50 concurrent rotations here. The gate bounds
 * the requests in flight and, once Upstash answers 429, holds every request
 * back until the advertised time instead of letting each one discover the limit
 * on its own. When the 429 came from a window this process saturated, it also
 * paces requests to the rate that got through, and raises that rate by one per
 * window without a 429 (see `learnFromAnswer`). It lives on `globalThis` (not
 * in a module variable) because the serializer copies module state by value
 * into each provider text.
 */
export interface RequestGate {
  /** Waits for a pause to pass, the learned rate and a free slot; resolves with its release function. */
  acquire(): Promise<() => void>;
  /** Holds back every request until `untilEpochMs`. */
  pauseUntil(untilEpochMs: number): void;
  /**
   * Reports how a request that started at `startedAt` was answered; true for a
   * 429 that is taken as a sign of the rate limit (see `learnFromAnswer`).
   */
  observe(outcome: "ok" | "throttled", startedAt: number): boolean;
}

/** Upstash does not publish its limit, so the gate learns it over windows this long. */
const RATE_WINDOW_MS = 1000;
/** Spacing added to the learned window: request clocks and the server's are not the same. */
const RATE_MARGIN_MS = 30;
/** A learned rate is forgotten after this long without a 429 (the limit may have been shared). */
const RATE_MEMORY_MS = 60_000;
/** A 429 within this long of another one confirms that a thin window was really at the limit. */
const RATE_CONFIRM_MS = 3 * RATE_WINDOW_MS;
/** How long start times are kept: long enough to look one window back from a slow answer. */
const RATE_HISTORY_MS = 5 * RATE_WINDOW_MS;
const GATE_KEY = "__upstashCredentialRotationRequestGate";

/**
 * What the gate has learned about Upstash's rate limit. Plain data, kept on
 * `globalThis` with the gate, and changed only by the two functions below.
 */
export interface RateMemory {
  /** Requests that may start per window; unknown (unlimited) until a 429 from a saturated window. */
  learnedPerWindow?: number;
  /**
   * True when `learnedPerWindow` comes from a window this process saturated:
   * it then climbs back only up to `provenPerWindow`. False when only two
   * 429s close together at low traffic suggested it: it then climbs without bound.
   */
  learnedFromSaturation?: boolean;
  /** When `learnedPerWindow` was last set or raised: it climbs one per window without a 429 from there. */
  raisedAt?: number;
  /** The most requests that started within one window and were all answered without a 429, lately. */
  provenPerWindow?: number;
  /** When `provenPerWindow` was last reached; it is measured afresh once a minute has passed. */
  provenAt?: number;
  /** Start times of the requests admitted recently, oldest first. */
  admitted: number[];
  /** Start times of recent requests that were answered without a 429. */
  answered: number[];
  /** Start time of the latest 429 the rate was learned from. */
  throttledStart?: number;
  /** When the latest 429 arrived, whether it was learned from or not. */
  throttledAt?: number;
}

/** How many of `times` lie in `(from, to]`. */
function countIn(times: readonly number[], from: number, to: number): number {
  let count = 0;
  for (const time of times) if (time > from && time <= to) count++;
  return count;
}

/**
 * Milliseconds until the learned rate lets one more request start at `now` (0: go).
 *
 * Also where a learned rate heals: it climbs by one for every whole window
 * without a 429, so a guess that was too low costs seconds, not a minute. A
 * rate learned from a saturated window climbs back only to what has been seen
 * to get through in one window lately (probing beyond a real limit would cost
 * a 429 and its Retry-After every other window); it is forgotten a minute
 * after the last 429, as is every learned rate.
 */
export function rateWait(memory: RateMemory, now: number): number {
  const history = now - RATE_HISTORY_MS;
  while (memory.admitted.length > 0 && memory.admitted[0] < history) memory.admitted.shift();
  if (memory.learnedPerWindow === undefined) return 0;
  if (now - (memory.throttledAt ?? now) > RATE_MEMORY_MS) {
    memory.learnedPerWindow = undefined;
    memory.learnedFromSaturation = undefined;
    memory.raisedAt = undefined;
    return 0;
  }
  const raisedAt = memory.raisedAt ?? now;
  const quietWindows = Math.floor((now - raisedAt) / RATE_WINDOW_MS);
  if (quietWindows > 0) {
    const ceiling = memory.learnedFromSaturation
      ? Math.max(memory.learnedPerWindow, memory.provenPerWindow ?? 0)
      : Infinity;
    memory.learnedPerWindow = Math.min(ceiling, memory.learnedPerWindow + quietWindows);
    memory.raisedAt = raisedAt + quietWindows * RATE_WINDOW_MS;
  }
  const span = RATE_WINDOW_MS + RATE_MARGIN_MS;
  const recent = memory.admitted.filter((time) => time >= now - span);
  if (recent.length < memory.learnedPerWindow) return 0;
  const oldestThatCounts = recent[recent.length - memory.learnedPerWindow];
  return oldestThatCounts + span - now + 1;
}

/**
 * Learns from how a request that started at `startedAt` was answered.
 *
 * A 429 says "too many in the window before this request", but only when this
 * process filled that window itself: a 429 after a few requests at low traffic
 * may be a stray one (a hiccup, or another client of the same account), and
 * pacing a whole run to what got through before it would slow every later
 * request for nothing. So a 429 is learned from only when
 *  - the window was saturated: more requests were admitted in it than
 *    `inFlightLimit` (the gate's slots), so slots were refilled within the
 *    window and this process was pushing as hard as the gate lets it; or
 *  - another 429 arrived less than `RATE_CONFIRM_MS` before (a limit lower
 *    than the slots shows up as a 429 in every window).
 * Otherwise it only holds back the climb of a rate already learned; the gate
 * still honours its Retry-After. Returns whether a 429 was taken as a sign of
 * the limit (false for an OK).
 */
export function learnFromAnswer(
  memory: RateMemory,
  outcome: "ok" | "throttled",
  startedAt: number,
  now: number,
  inFlightLimit: number,
): boolean {
  // Answers arrive out of start order, so filter rather than trim the front.
  memory.answered = memory.answered.filter((time) => time >= now - RATE_HISTORY_MS);
  if (outcome === "ok") {
    memory.answered.push(startedAt);
    const inWindow = countIn(memory.answered, startedAt - RATE_WINDOW_MS, startedAt);
    if (
      inWindow >= (memory.provenPerWindow ?? 0) ||
      now - (memory.provenAt ?? now) > RATE_MEMORY_MS
    ) {
      memory.provenPerWindow = inWindow;
      memory.provenAt = now;
    }
    const throttled = memory.throttledStart;
    // Answers still in flight at a learned 429 raise the estimate when they arrive.
    if (
      throttled === undefined ||
      startedAt > throttled ||
      startedAt <= throttled - RATE_WINDOW_MS
    ) {
      return false;
    }
    const gotThrough = countIn(memory.answered, throttled - RATE_WINDOW_MS, throttled);
    memory.learnedPerWindow = Math.max(gotThrough, memory.learnedPerWindow ?? 0);
    memory.raisedAt ??= now;
    return false;
  }

  const previous429 = memory.throttledAt;
  memory.throttledAt = now;
  // Every 429 restarts the climb of a rate already learned.
  if (memory.learnedPerWindow !== undefined) memory.raisedAt = now;
  const saturated = countIn(memory.admitted, startedAt - RATE_WINDOW_MS, startedAt) > inFlightLimit;
  const confirmed = previous429 !== undefined && now - previous429 <= RATE_CONFIRM_MS;
  if (!saturated && !confirmed) return false;
  memory.throttledStart = startedAt;
  memory.raisedAt = now;
  memory.learnedFromSaturation = saturated;
  // What got through in the window before the throttled request is what the limit allows.
  const gotThrough = countIn(memory.answered, startedAt - RATE_WINDOW_MS, startedAt);
  // Nothing got through: no evidence of a rate yet, Retry-After alone paces.
  // Otherwise a new 429 may mean a lower limit: start over.
  if (gotThrough > 0) memory.learnedPerWindow = gotThrough;
  return true;
}

interface GateState {
  limit: number;
  active: number;
  waiting: (() => void)[];
  pausedUntil: number;
  rate: RateMemory;
}

/** Returns the gate shared by the whole process, creating it on first use. */
export function sharedRequestGate(limit: number): RequestGate {
  const registry = globalThis as unknown as Record<string, GateState | undefined>;
  const state: GateState = registry[GATE_KEY] ?? {
    limit,
    active: 0,
    waiting: [],
    pausedUntil: 0,
    rate: { admitted: [], answered: [] },
  };
  registry[GATE_KEY] = state;
  state.limit = Math.max(1, limit);

  const release = (): void => {
    state.active--;
    const next = state.waiting.shift();
    if (next) next();
  };

  return {
    async acquire() {
      for (;;) {
        const now = Date.now();
        const pause = Math.max(state.pausedUntil - now, rateWait(state.rate, now));
        if (pause > 0) {
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        if (state.active < state.limit) break;
        await new Promise<void>((resolve) => state.waiting.push(resolve));
      }
      state.active++;
      state.rate.admitted.push(Date.now());
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
    pauseUntil(untilEpochMs: number) {
      state.pausedUntil = Math.max(state.pausedUntil, untilEpochMs);
    },
    observe(outcome, startedAt) {
      return learnFromAnswer(state.rate, outcome, startedAt, Date.now(), state.limit);
    },
  };
}

/** Drops the shared gate and what it learned; for tests and benchmarks that need a cold start. */
export function forgetSharedRequestGate(): void {
  Reflect.deleteProperty(globalThis, GATE_KEY);
}

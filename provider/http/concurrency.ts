/**
 * A process-wide gate in front of every Upstash request.
 *
 * The dynamic-provider host loads one copy of the provider per distinct
 * serialized text and runs every resource's operations in one process, so
 * `pulumi up --parallel 50` means 50 concurrent rotations here. The gate bounds
 * the requests in flight and, once Upstash answers 429 with a Retry-After,
 * holds every request back until then instead of letting each one discover the
 * limit on its own. Once a limit is confirmed (a second 429 soon after a
 * first), it also paces requests to the rate that got through, and doubles
 * that rate for every window without a 429 (see `learnFromAnswer`). It lives
 * on `globalThis` (not in a module variable) because the serializer copies
 * module state by value into each provider text.
 */
export interface RequestGate {
  /**
   * Waits for a pause to pass, the learned rate and a free slot. With
   * `maxHeldMs`, gives up (resolves `undefined`) instead of being held back by
   * a pause or the learned rate for longer than that in all; waiting for a
   * free slot is not counted.
   */
  acquire(maxHeldMs?: number): Promise<Admission | undefined>;
  /** Holds back every request until `untilEpochMs`. */
  pauseUntil(untilEpochMs: number): void;
  /**
   * Reports how a request that started at `startedAt` was answered; true for a
   * 429 that is taken as a sign of the rate limit (see `learnFromAnswer`).
   */
  observe(outcome: "ok" | "throttled", startedAt: number): boolean;
}

/** A request the gate let through. */
export interface Admission {
  /** Frees the slot; calling it again does nothing. */
  release(): void;
  /** How long the request waited for a free slot (other requests in flight). */
  slotWaitMs: number;
  /** How long a pause (Retry-After) or the learned rate held it back. */
  heldMs: number;
}

/** Upstash does not publish its limit, so the gate learns it over windows this long. */
const RATE_WINDOW_MS = 1000;
/** Spacing added to the learned window: request clocks and the server's are not the same. */
const RATE_MARGIN_MS = 30;
/** A learned rate is forgotten after this long without a 429 (the limit may have been shared). */
const RATE_MEMORY_MS = 60_000;
/** A 429 within this long of another one confirms that the limit was reached. */
const RATE_CONFIRM_MS = 3 * RATE_WINDOW_MS;
/** How long start times are kept: long enough to look one window back from a slow answer. */
const RATE_HISTORY_MS = 5 * RATE_WINDOW_MS;
/** Where the climb stops: far beyond any rate one process reaches, i.e. unpaced. */
const RATE_UNBOUNDED = 1 << 20;
const GATE_KEY = "__upstashCredentialRotationRequestGate";

/**
 * What the gate has learned about Upstash's rate limit. Plain data, kept on
 * `globalThis` with the gate, and changed only by the two functions below.
 */
export interface RateMemory {
  /** Requests that may start per window; unknown (unlimited) until a limit is confirmed. */
  learnedPerWindow?: number;
  /** When the rate was learned from a confirmed limit; requests admitted from then on are paced. */
  learnedAt?: number;
  /** What got through when the rate was last learned or lowered: a 429 is weighed against it. */
  basePerWindow?: number;
  /**
   * Where the climb stops: set when requests paced by the learned rate still
   * met confirmed 429s, so probing above it would only cost more of them.
   * Forgotten with the rate.
   */
  ceilingPerWindow?: number;
  /** Start of the climb's current window: the rate doubles for every whole window without a 429 from there. */
  raisedAt?: number;
  /** Start times of the requests admitted recently, oldest first. */
  admitted: number[];
  /** Start times of recent requests that were answered without a 429. */
  answered: number[];
  /** Start time of the latest 429 the rate was learned from (answers still in flight from its window raise it). */
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
 * Applies the climb up to `now`: the learned rate doubles for every whole
 * window without a 429, up to the ceiling if one was set. A guess that was too
 * low (two stray 429s close together) so heals within a few seconds, while a
 * limit that paced requests still ran into stays where it was found.
 */
function climb(memory: RateMemory, now: number): void {
  if (memory.learnedPerWindow === undefined) return;
  const raisedAt = memory.raisedAt ?? now;
  const quietWindows = Math.floor((now - raisedAt) / RATE_WINDOW_MS);
  if (quietWindows <= 0) return;
  const ceiling = memory.ceilingPerWindow ?? RATE_UNBOUNDED;
  memory.learnedPerWindow = Math.min(
    ceiling,
    RATE_UNBOUNDED,
    memory.learnedPerWindow * 2 ** Math.min(quietWindows, 20),
  );
  memory.raisedAt = raisedAt + quietWindows * RATE_WINDOW_MS;
}

/** Drops everything learned about the rate. */
function forgetRate(memory: RateMemory): void {
  memory.learnedPerWindow = undefined;
  memory.learnedAt = undefined;
  memory.basePerWindow = undefined;
  memory.ceilingPerWindow = undefined;
  memory.raisedAt = undefined;
}

/**
 * Milliseconds until the learned rate lets one more request start at `now` (0: go).
 *
 * Also where a learned rate heals (see `climb`) and is forgotten, a minute after
 * the last 429.
 */
export function rateWait(memory: RateMemory, now: number): number {
  const history = now - RATE_HISTORY_MS;
  while (memory.admitted.length > 0 && memory.admitted[0] < history) memory.admitted.shift();
  if (memory.learnedPerWindow === undefined) return 0;
  if (now - (memory.throttledAt ?? now) > RATE_MEMORY_MS) {
    forgetRate(memory);
    return 0;
  }
  climb(memory, now);
  const span = RATE_WINDOW_MS + RATE_MARGIN_MS;
  const recent = memory.admitted.filter((time) => time >= now - span);
  if (recent.length < memory.learnedPerWindow) return 0;
  const oldestThatCounts = recent[recent.length - memory.learnedPerWindow];
  return oldestThatCounts + span - now + 1;
}

/**
 * Learns from how a request that started at `startedAt` was answered.
 *
 * A single 429 never teaches a rate: it may be a stray one (a hiccup, or
 * another client of the same account), and pacing a whole run to what got
 * through before it would slow every later request for nothing. A limit is
 * confirmed by a second 429 less than `RATE_CONFIRM_MS` after another one (a
 * real limit answers 429 to every request beyond it, so several arrive together
 * when requests run in parallel, and one per window when they do not); the rate
 * is then what got through in the window before the throttled request.
 *
 * Once a rate is learned, a 429 on a request that was paced by it, after a
 * window in which at least half the learned rate got through, lowers the rate
 * to what got through; if it is confirmed too, the climb (see `climb`) stops
 * there until the rate is forgotten. A 429 after a thin window is weighed like
 * one with no rate learned. Every 429 restarts the climb. The gate honours any
 * Retry-After whatever this returns. Returns whether a 429 was taken as a sign
 * of the limit (false for an OK).
 */
export function learnFromAnswer(
  memory: RateMemory,
  outcome: "ok" | "throttled",
  startedAt: number,
  now: number,
): boolean {
  // Answers arrive out of start order, so filter rather than trim the front.
  memory.answered = memory.answered.filter((time) => time >= now - RATE_HISTORY_MS);
  if (outcome === "ok") {
    learnFromOk(memory, startedAt);
    return false;
  }
  const previous429 = memory.throttledAt;
  memory.throttledAt = now;
  const throttle: Throttle = {
    startedAt,
    now,
    confirmed: previous429 !== undefined && now - previous429 <= RATE_CONFIRM_MS,
    // What got through in the window before the throttled request is what the limit allows.
    gotThrough: countIn(memory.answered, startedAt - RATE_WINDOW_MS, startedAt),
  };
  if (learnFromPacedThrottle(memory, throttle)) return true;
  if (!throttle.confirmed) return false;
  learnConfirmedRate(memory, throttle);
  return true;
}

/** A 429 as `learnFromAnswer` weighs it. */
interface Throttle {
  startedAt: number;
  now: number;
  /** Whether it came less than `RATE_CONFIRM_MS` after another 429. */
  confirmed: boolean;
  /** OK answers to requests started in the window before it. */
  gotThrough: number;
}

function learnFromOk(memory: RateMemory, startedAt: number): void {
  memory.answered.push(startedAt);
  const throttled = memory.throttledStart;
  // Answers still in flight at a learned 429 raise the estimate when they arrive.
  if (
    memory.learnedPerWindow === undefined ||
    throttled === undefined ||
    startedAt > throttled ||
    startedAt <= throttled - RATE_WINDOW_MS
  ) {
    return;
  }
  const gotThrough = countIn(memory.answered, throttled - RATE_WINDOW_MS, throttled);
  if (gotThrough > memory.learnedPerWindow) {
    memory.learnedPerWindow = gotThrough;
    memory.basePerWindow = Math.max(memory.basePerWindow ?? 0, gotThrough);
    if (memory.ceilingPerWindow !== undefined) {
      memory.ceilingPerWindow = Math.max(memory.ceilingPerWindow, gotThrough);
    }
  }
}

/**
 * A 429 with a rate learned: the climb restarts, and a request paced by that
 * rate after a window in which at least half of it got through lowers it to
 * what got through (and, when confirmed, stops the climb there). Returns
 * whether the 429 was taken as a sign of the limit.
 */
function learnFromPacedThrottle(memory: RateMemory, throttle: Throttle): boolean {
  if (memory.learnedPerWindow === undefined) return false;
  const { startedAt, gotThrough } = throttle;
  // Keep the climb made so far; the next step is a whole window away again.
  climb(memory, throttle.now);
  memory.raisedAt = throttle.now;
  const paced =
    startedAt >= (memory.learnedAt ?? Infinity) &&
    gotThrough * 2 >= (memory.basePerWindow ?? memory.learnedPerWindow);
  if (!paced) return false;
  memory.throttledStart = startedAt;
  if (gotThrough > 0 && gotThrough < memory.learnedPerWindow) {
    memory.learnedPerWindow = gotThrough;
    memory.basePerWindow = gotThrough;
  }
  if (throttle.confirmed) memory.ceilingPerWindow = memory.learnedPerWindow;
  return true;
}

/** A confirmed 429 not weighed against a paced rate: what got through becomes the rate. */
function learnConfirmedRate(memory: RateMemory, throttle: Throttle): void {
  const { gotThrough, now } = throttle;
  memory.throttledStart = throttle.startedAt;
  // Nothing got through: no evidence of a rate yet, Retry-After alone paces.
  if (gotThrough > 0) {
    memory.learnedPerWindow = gotThrough;
    memory.basePerWindow = gotThrough;
    memory.learnedAt = now;
    memory.raisedAt = now;
    if (memory.ceilingPerWindow !== undefined && memory.ceilingPerWindow < gotThrough) {
      memory.ceilingPerWindow = gotThrough;
    }
  }
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
    async acquire(maxHeldMs = Infinity) {
      let slotWaitMs = 0;
      let heldMs = 0;
      for (;;) {
        const now = Date.now();
        const hold = Math.max(state.pausedUntil - now, rateWait(state.rate, now));
        if (hold > 0) {
          if (heldMs + hold > maxHeldMs) return undefined;
          await new Promise((resolve) => setTimeout(resolve, hold));
          heldMs += Date.now() - now;
          continue;
        }
        if (state.active < state.limit) break;
        await new Promise<void>((resolve) => state.waiting.push(resolve));
        slotWaitMs += Date.now() - now;
      }
      state.active++;
      state.rate.admitted.push(Date.now());
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          release();
        },
        slotWaitMs,
        heldMs,
      };
    },
    pauseUntil(untilEpochMs: number) {
      state.pausedUntil = Math.max(state.pausedUntil, untilEpochMs);
    },
    observe(outcome, startedAt) {
      return learnFromAnswer(state.rate, outcome, startedAt, Date.now());
    },
  };
}

/** Drops the shared gate and what it learned; for tests and benchmarks that need a cold start. */
export function forgetSharedRequestGate(): void {
  Reflect.deleteProperty(globalThis, GATE_KEY);
}

/**
 * A process-wide gate in front of every Upstash request.
 *
 * The dynamic-provider host loads one copy of the provider per distinct
 * serialized text and runs every resource's operations in one process, so
 * `pulumi up --parallel 50` means 50 concurrent rotations here. The gate bounds
 * the requests in flight and, once Upstash answers 429, holds every request
 * back until the advertised time instead of letting each one discover the limit
 * on its own; from then on it paces requests to the rate that got through. It
 * lives on `globalThis` (not in a module variable) because the serializer
 * copies module state by value into each provider text.
 */
export interface RequestGate {
  /** Waits for a pause to pass, the learned rate and a free slot; resolves with its release function. */
  acquire(): Promise<() => void>;
  /** Holds back every request until `untilEpochMs`. */
  pauseUntil(untilEpochMs: number): void;
  /** Reports how a request that started at `startedAt` was answered. */
  observe(outcome: "ok" | "throttled", startedAt: number): void;
}

/** Upstash does not publish its limit, so the gate learns it over windows this long. */
const RATE_WINDOW_MS = 1000;
/** Spacing added to the learned window: request clocks and the server's are not the same. */
const RATE_MARGIN_MS = 30;
/** A learned rate is forgotten after this long without a 429 (the limit may have been shared). */
const RATE_MEMORY_MS = 60_000;
const GATE_KEY = "__upstashCredentialRotationRequestGate";

/**
 * What the gate has learned about Upstash's rate limit. Plain data, kept on
 * `globalThis` with the gate, and changed only by the two functions below.
 */
export interface RateMemory {
  /** Requests that may start per window; unknown (unlimited) until the first 429. */
  learnedPerWindow?: number;
  /** Start times of the requests admitted recently, oldest first. */
  admitted: number[];
  /** Start times of recent requests that were answered without a 429. */
  answered: number[];
  /** Start time of the latest request that was answered 429. */
  throttledStart?: number;
  /** When the latest 429 arrived. */
  throttledAt?: number;
}

/** Milliseconds until the learned rate lets one more request start at `now` (0: go). */
export function rateWait(memory: RateMemory, now: number): number {
  if (memory.learnedPerWindow === undefined) return 0;
  if (now - (memory.throttledAt ?? now) > RATE_MEMORY_MS) {
    memory.learnedPerWindow = undefined;
    return 0;
  }
  const cutoff = now - RATE_WINDOW_MS - RATE_MARGIN_MS;
  while (memory.admitted.length > 0 && memory.admitted[0] < cutoff) memory.admitted.shift();
  if (memory.admitted.length < memory.learnedPerWindow) return 0;
  const oldestThatCounts = memory.admitted[memory.admitted.length - memory.learnedPerWindow];
  return oldestThatCounts + RATE_WINDOW_MS + RATE_MARGIN_MS - now + 1;
}

/** Learns from how a request that started at `startedAt` was answered. */
export function learnFromAnswer(
  memory: RateMemory,
  outcome: "ok" | "throttled",
  startedAt: number,
  now: number,
): void {
  // Answers arrive out of start order, so filter rather than trim the front.
  memory.answered = memory.answered.filter((time) => time >= now - 2 * RATE_WINDOW_MS);
  if (outcome === "throttled") {
    memory.throttledStart = startedAt;
    memory.throttledAt = now;
  } else {
    memory.answered.push(startedAt);
  }
  const throttled = memory.throttledStart;
  if (throttled === undefined || startedAt > throttled) return;
  // What got through in the window before the throttled request is what the limit
  // allows; answers still in flight at the 429 raise it when they arrive.
  const gotThrough = memory.answered.filter(
    (time) => time <= throttled && time > throttled - RATE_WINDOW_MS,
  ).length;
  // Nothing got through: no evidence of a rate yet, Retry-After alone paces.
  if (gotThrough === 0) return;
  memory.learnedPerWindow =
    outcome === "throttled"
      ? gotThrough // a new 429 may mean a lower limit: start over
      : Math.max(gotThrough, memory.learnedPerWindow ?? 1);
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
      learnFromAnswer(state.rate, outcome, startedAt, Date.now());
    },
  };
}

/** Drops the shared gate and what it learned; for tests and benchmarks that need a cold start. */
export function forgetSharedRequestGate(): void {
  Reflect.deleteProperty(globalThis, GATE_KEY);
}

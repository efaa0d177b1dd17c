/**
 * A process-wide gate in front of every Upstash request.
 *
 * The dynamic-provider host loads one copy of the provider per distinct
 * serialized text and runs every resource's operations in one process, so
 * `pulumi up --parallel 50` means 50 concurrent rotations here. The gate bounds
 * the requests in flight and, once Upstash answers 429, holds every request
 * back until the advertised time instead of letting each one discover the limit
 * on its own. It lives on `globalThis` (not in a module variable) because the
 * serializer copies module state by value into each provider text.
 */
export interface RequestGate {
  /** Waits for a pause to pass and a free slot; resolves with its release function. */
  acquire(): Promise<() => void>;
  /** Holds back every request until `untilEpochMs`. */
  pauseUntil(untilEpochMs: number): void;
}

interface GateState {
  limit: number;
  active: number;
  waiting: (() => void)[];
  pausedUntil: number;
}

/** Returns the gate shared by the whole process, creating it on first use. */
export function sharedRequestGate(limit: number): RequestGate {
  const registry = globalThis as unknown as Record<string, GateState | undefined>;
  const key = "__upstashCredentialRotationRequestGate";
  const state = registry[key] ?? { limit, active: 0, waiting: [], pausedUntil: 0 };
  registry[key] = state;
  state.limit = Math.max(1, limit);

  const release = (): void => {
    state.active--;
    const next = state.waiting.shift();
    if (next) next();
  };

  return {
    async acquire() {
      for (;;) {
        const pause = state.pausedUntil - Date.now();
        if (pause > 0) {
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        if (state.active < state.limit) break;
        await new Promise<void>((resolve) => state.waiting.push(resolve));
      }
      state.active++;
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
  };
}

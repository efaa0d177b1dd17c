/**
 * One home for the changes that must take effect at most once: a credential
 * reset, an ACL `SETUSER`, a signing-key roll. Each kills or replaces a
 * credential, so sending one twice is a second rotation. The rule for all of
 * them: send once, and never again within one operation. When the outcome is
 * unknown, read the live state over a few seconds to find out. Unknown means
 * no answer, an unreadable 2xx, or any 5xx: a gateway (Cloudflare's 520-524,
 * a proxy's 502, 503 or 504) answers while the origin may still carry the
 * request out, and from the outside no 5xx proves it did not. Still unseen:
 * the caller fails with what it recorded, and the next run reads first.
 */
import { setTimeout as pause } from "timers/promises";
import { notify } from "./notices";

/**
 * Readings after a change with an unknown outcome, one second apart: a change
 * still on its way is seen when it lands within about two seconds.
 */
const SETTLING_READS = 3;
const SETTLING_READ_DELAY_MS = 1000;

export interface OnceOnlyChange<Result, Reading> {
  /** Sends the change and returns what it produced. */
  send: () => Promise<Result>;
  /** Reads the live state the change alters. */
  read: () => Promise<Reading>;
  /** What the change produced when `reading` shows it took effect; `undefined` when not (yet). */
  seenIn: (reading: Reading) => Result | undefined;
  /** The error when reading the live state failed: whether the change took effect is unknown. */
  unreadable: (sendError: unknown, readError: unknown) => Error;
  /** The error when the change was not seen to take effect: it may still land. */
  notSeen: (sendError: unknown) => Error;
}

/** Whether a failed request may have taken effect: no answer, any 5xx, or an unreadable 2xx. */
function mayHaveTakenEffect(error: unknown): boolean {
  const { code, outcomeUnknown } = (error ?? {}) as { code?: unknown; outcomeUnknown?: unknown };
  return code === "malformed_response" || outcomeUnknown === true;
}

/** Sends `change` once, so that it takes effect at most once, settling an unknown outcome by reading. */
export async function sendOnce<Result, Reading>(
  change: OnceOnlyChange<Result, Reading>,
): Promise<Result> {
  try {
    return await change.send();
  } catch (error) {
    if (!mayHaveTakenEffect(error)) throw error; // refused: nothing changed
    for (let reads = 1; ; reads++) {
      let reading: Reading;
      try {
        reading = await change.read();
      } catch (readError) {
        throw withLateLandingNote(change.unreadable(error, readError));
      }
      const result = change.seenIn(reading);
      if (result !== undefined) return result;
      if (reads >= SETTLING_READS) throw withLateLandingNote(change.notSeen(error));
      await pause(SETTLING_READ_DELAY_MS);
    }
  }
}

/**
 * How long a change with an unknown outcome may still land. A gateway can give
 * up long before its origin does (Cloudflare answers 524 after 100 s of origin
 * silence, and the origin carries on), so the readings above cannot rule out
 * a landing; this window does, at 2 minutes unless
 * `UPSTASH_LATE_LANDING_WINDOW_MS` says otherwise.
 */
export function lateLandingWindowMs(): number {
  const value = Number(process.env.UPSTASH_LATE_LANDING_WINDOW_MS);
  return process.env.UPSTASH_LATE_LANDING_WINDOW_MS && Number.isFinite(value) && value >= 0
    ? value
    : 120_000;
}

const LATE_LANDING_READ_DELAY_MS = 5000;

/** Says when a run may send the change again, so that a run that pauses is not a mystery. */
function withLateLandingNote(error: Error): Error {
  const window = lateLandingWindowMs();
  if (window > 0) {
    const until = new Date(Date.now() + window).toISOString();
    error.message = `${error.message} A run before ${until} first waits until then (or until the change is seen), so that it can never land after a second one.`;
  }
  return error;
}

/**
 * When a change sent with an unknown outcome at `since` can no longer land. A
 * time ahead of `notAfter` (this machine's clock; another machine's skew)
 * counts as `notAfter`, so that a skewed state cannot block runs for longer
 * than the window.
 */
export function lateLandingEnd(
  since: string | undefined,
  notAfter = Date.now(),
): number | undefined {
  const sentAt = since ? Date.parse(since) : Number.NaN;
  return Number.isNaN(sentAt) ? undefined : Math.min(sentAt, notAfter) + lateLandingWindowMs();
}

/** Whether a change sent with an unknown outcome at `since` may still land. */
export const mayStillLandNow = (since: string | undefined): boolean =>
  (lateLandingEnd(since) ?? 0) > Date.now();

/**
 * Before a run sends again what an earlier run sent with an unknown outcome at
 * `since`: reads until the earlier change is seen (`landed`) or can no longer
 * land, so that it never lands after its replacement. Returns the last reading.
 */
export async function outwaitLateLanding<Reading>(
  since: string | undefined,
  what: string,
  reading: Reading,
  read: () => Promise<Reading>,
  landed: (reading: Reading) => boolean,
): Promise<Reading> {
  const until = lateLandingEnd(since);
  if (until === undefined) return reading;
  let told = false;
  while (!landed(reading) && Date.now() < until) {
    if (!told) {
      notify(
        "info",
        `${what}: a change sent at ${since} got no clear answer and has not been seen to land. Waiting until ${new Date(until).toISOString()} before sending it again, since a gateway may still deliver it and both would land.`,
      );
      told = true;
    }
    await pause(Math.min(LATE_LANDING_READ_DELAY_MS, Math.max(0, until - Date.now())));
    reading = await read();
  }
  return reading;
}

/**
 * One home for the changes that must take effect at most once: a credential
 * reset, an ACL `SETUSER`, a signing-key roll. Each kills or replaces a
 * credential, so sending one twice is a second rotation. The rule for all of
 * them: send once; when the outcome is unknown, read the live state to find
 * out; send again only after the origin itself answered and a reading proved
 * nothing changed. A change that got no answer (or an unreadable 2xx) may
 * still land, so it is never sent again here: the caller fails and the next
 * run reads first.
 */
import { setTimeout as pause } from "timers/promises";
import { answeredByOrigin } from "./http/errors";

/** Readings after a change that got no answer: it may still be on its way. */
const UNANSWERED_READS = 3;
const UNANSWERED_READ_DELAY_MS = 1000;

export interface OnceOnlyChange<Result, Reading> {
  /** Sends the change and returns what it produced. */
  send: () => Promise<Result>;
  /** Reads the live state the change alters. */
  read: () => Promise<Reading>;
  /** What the change produced when `reading` shows it took effect; `undefined` when not (yet). */
  seenIn: (reading: Reading) => Result | undefined;
  /** Sends in all, each repeat only after an origin answer and a reading that proved the last did nothing. */
  maxSends: number;
  /** The error when reading the live state failed: whether the change took effect is unknown. */
  unreadable: (sendError: unknown, readError: unknown) => Error;
  /**
   * The error when the change was not seen to take effect. `mayStillLand`:
   * it got no answer or an unreadable one, so it may yet take effect;
   * otherwise the origin answered and nothing changed.
   */
  notSeen: (sendError: unknown, mayStillLand: boolean) => Error;
}

/** Whether a failed request may have taken effect: no answer, a gateway's, or an unreadable 2xx. */
function mayHaveTakenEffect(error: unknown): { unknown: boolean; answered: boolean } {
  const { code, outcomeUnknown } = (error ?? {}) as { code?: unknown; outcomeUnknown?: unknown };
  if (code === "malformed_response") return { unknown: true, answered: false };
  return { unknown: outcomeUnknown === true, answered: answeredByOrigin(error) };
}

/** Sends `change` so that it takes effect at most once, settling an unknown outcome by reading. */
export async function sendOnce<Result, Reading>(
  change: OnceOnlyChange<Result, Reading>,
): Promise<Result> {
  for (let sends = 1; ; sends++) {
    try {
      return await change.send();
    } catch (error) {
      const { unknown, answered } = mayHaveTakenEffect(error);
      if (!unknown) throw error; // refused: nothing changed
      // The origin is done with an answered request, so one reading tells; otherwise a few.
      for (let reads = 1; ; reads++) {
        let reading: Reading;
        try {
          reading = await change.read();
        } catch (readError) {
          throw change.unreadable(error, readError);
        }
        const result = change.seenIn(reading);
        if (result !== undefined) return result;
        if (answered || reads >= UNANSWERED_READS) break;
        await pause(UNANSWERED_READ_DELAY_MS);
      }
      if (answered && sends < change.maxSends) continue;
      throw change.notSeen(error, !answered);
    }
  }
}

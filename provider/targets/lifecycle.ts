/**
 * The rules every target follows, whatever its endpoints:
 * - a 404 means "deleted" only when the account's list proves it;
 * - a reset request is sent once per rotation: when its outcome is unknown (no
 *   answer, any 5xx, an unreadable 2xx) the live credentials are read and
 *   compared with the ones read before it;
 * - when the new credentials cannot be established, the caller gets a
 *   partial-failure error that says so and never a credential that may be dead.
 */
import { setTimeout as pause } from "timers/promises";
import type { UpstashClient } from "../http/client";
import { sendOnce } from "../exactlyOnce";
import { hasUpstashCode, messageOf } from "../http/errors";
import {
  AbsenceUnprovenError,
  CredentialsShownOnceError,
  ResetNotObservedError,
  ResetOutcomeUnknownError,
  RotatedButUnreadError,
} from "./errors";
import type {
  IssuedCredentials,
  LocatedTarget,
  RotationRecord,
  RotationTarget,
  TargetDriver,
} from "./target";

/** Read-backs that still show the old credentials after a successful reset (replica lag). */
const STALE_READ_RETRIES = 3;
const STALE_READ_DELAY_MS = 250;

/** Whether two readings hold the same secrets: any difference means a reset took effect. */
export function sameSecrets(a: Partial<IssuedCredentials>, b: Partial<IssuedCredentials>): boolean {
  return a.token === b.token && a.password === b.password && a.readOnlyToken === b.readOnlyToken;
}

/**
 * The live credentials; `undefined` only when the account's list proves the
 * target is gone. With `mustExist`, a proven absence throws the API's own 404.
 */
export async function readLive<T extends RotationTarget>(
  driver: TargetDriver<T>,
  client: UpstashClient,
  target: T,
  record: RotationRecord,
  mustExist = false,
): Promise<IssuedCredentials | undefined> {
  const located = await driver.locate(client, target, record);
  try {
    return await driver.get(client, located);
  } catch (error) {
    if (!hasUpstashCode(error, "not_found")) throw error;
    await proveAbsent(driver, client, target, located, error);
    if (mustExist) throw error;
    return undefined;
  }
}

/** Throws unless the account's list proves that the target a 404 was about is gone. */
export async function proveAbsent<T extends RotationTarget>(
  driver: TargetDriver<T>,
  client: UpstashClient,
  target: T,
  located: LocatedTarget,
  notFound: unknown,
): Promise<void> {
  const what = driver.describe(target);
  let ids: string[];
  try {
    ids = await driver.listIds(client, located);
  } catch (listError) {
    throw new AbsenceUnprovenError(
      what,
      notFound,
      `listing them to confirm failed too: ${messageOf(listError) ?? "unknown error"}`,
    );
  }
  if (ids.includes(located.id)) {
    throw new AbsenceUnprovenError(what, notFound, "yet the account still lists it");
  }
}

/**
 * Resets the target's credentials exactly once and returns the new ones.
 * `before` is a reading taken just before; it is what tells a reset that took
 * effect unanswered from one that never arrived.
 */
export async function rotateExactlyOnce<T extends RotationTarget>(
  driver: TargetDriver<T>,
  client: UpstashClient,
  target: T,
  before: IssuedCredentials,
): Promise<IssuedCredentials> {
  const what = driver.describe(target);
  const located = await driver.locate(client, target, before);
  return sendOnce({
    send: async () => {
      let answer: IssuedCredentials | undefined;
      try {
        answer = await driver.reset(client, located);
      } catch (error) {
        // A 2xx with an unreadable body: the reset happened; read the credentials back.
        if (hasUpstashCode(error, "malformed_response")) {
          return readBack(driver, client, located, what, before);
        }
        throw error;
      }
      if (answer && !sameSecrets(answer, before)) return answer;
      return readBack(driver, client, located, what, before);
    },
    read: () => driver.get(client, located),
    // A reading without credentials (Credential Protection) cannot show whether the reset landed.
    seenIn: (live) => (live.concealed || sameSecrets(live, before) ? undefined : live),
    unreadable: (resetError, readError) =>
      new ResetOutcomeUnknownError(
        what,
        resetError,
        `reading the live ones to find out failed: ${messageOf(readError) ?? "unknown error"}`,
        readError,
      ),
    // Not seen so far, but it may still land: refresh or the next `up` compares and settles it.
    notSeen: (resetError) =>
      new ResetOutcomeUnknownError(
        what,
        resetError,
        "the credentials have not changed so far, but a reset without a clear answer may still take effect",
      ),
  });
}

/** After a reset that took effect: the new credentials, read back until they differ from `before`. */
async function readBack<T extends RotationTarget>(
  driver: TargetDriver<T>,
  client: UpstashClient,
  located: LocatedTarget,
  what: string,
  before: IssuedCredentials,
): Promise<IssuedCredentials> {
  for (let reads = 0; ; reads++) {
    let live: IssuedCredentials;
    try {
      live = await driver.get(client, located);
    } catch (error) {
      throw new RotatedButUnreadError(what, error);
    }
    if (live.concealed) throw new CredentialsShownOnceError(what);
    if (!sameSecrets(live, before)) return live;
    // Answered, yet no change to be seen: not proof that the old credentials are dead.
    if (reads >= STALE_READ_RETRIES) throw new ResetNotObservedError(what);
    await pause(STALE_READ_DELAY_MS);
  }
}

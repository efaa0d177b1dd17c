/**
 * QStash signing keys (`target.type: "qstash-signing-keys"`). QStash signs
 * with `current`; receivers verify with `current`, then `next`. A roll makes
 * `next` the new `current` and generates a new `next`, so one roll keeps
 * every receiver that holds the pair working, and two rolls before receivers
 * update break all of them. Create therefore adopts the keys as they are
 * (creating the resource must not break receivers); a trigger change rolls
 * once, never sooner than `minRollInterval` after the previous roll. The
 * user's QStash token is read from the Developer API inside each operation
 * and never stored.
 */
import { setTimeout as pause } from "timers/promises";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  clientFor,
  compact,
  partialFailure,
  sameJson,
  verifies,
  withoutHandedOut,
  withoutSettings,
  type Inputs,
  type RotationState,
} from "../common";
import { dataPlaneBase, dataPlaneRequest, DataPlaneError } from "../dataPlane/client";
import type { UpstashClient } from "../http/client";
import { outwaitLateLanding, sendOnce } from "../exactlyOnce";
import { messageOf, PortableError } from "../http/errors";
import { notify } from "../notices";
import { periodEnd } from "../rotationWindow";
import {
  readExistingTarget,
  readTarget,
  type IssuedCredentials,
  type QStashSigningKeysTarget,
  type QStashTarget,
} from "../targets";

interface SigningKeys {
  current: string;
  next: string;
}

export const DEFAULT_MIN_ROLL_INTERVAL = "24h";

/** The QStash user whose keys these are, as the `qstash` target resolves it. */
function userTarget(target: QStashSigningKeysTarget): QStashTarget {
  const id = target.qstashUserId?.trim();
  return id ? { type: "qstash", qstashUserId: id } : { type: "qstash" };
}

const describeKeys = (target: QStashSigningKeysTarget): string =>
  target.qstashUserId
    ? `the signing keys of QStash user ${target.qstashUserId.trim()}`
    : "the signing keys of the account's QStash user";

export const signingKeysId = (state: Partial<RotationState>): string =>
  `qstash-signing-keys/${state.qstashApi === "legacy" ? "account" : state.resourceId || "account"}`;

const recordOf = (state: Partial<RotationState>) => ({
  resourceId: state.resourceId,
  qstashApi: state.qstashApi,
});

function keysOf(body: unknown, operation: string, host: string): SigningKeys {
  const { current, next } = (body ?? {}) as Record<string, unknown>;
  if (typeof current !== "string" || typeof next !== "string" || !current || !next) {
    throw new DataPlaneError("malformed_response", {
      operation,
      host,
      status: 200,
      detail: "no current/next keys in the answer",
      attempts: 1,
      outcomeUnknown: false,
    });
  }
  return { current, next };
}

async function readKeys(
  user: IssuedCredentials,
  what: string,
  budgetMs?: number,
): Promise<SigningKeys> {
  const operation = `read ${what} (GET /v2/keys)`;
  const body = await dataPlaneRequest({
    method: "GET",
    host: user.endpoint,
    path: "/v2/keys",
    token: user.token,
    operation,
    budgetMs,
    secrets: [user.readOnlyToken],
  });
  return keysOf(body, operation, user.endpoint);
}

/** A roll sent without a usable answer and not seen to land: it may still take effect. */
class RollOutcomeUnknownError extends PortableError {
  constructor(message: string) {
    super(message);
    this.name = "RollOutcomeUnknownError";
  }
}

const same = (a: SigningKeys, b: SigningKeys): boolean =>
  a.current === b.current && a.next === b.next;

/**
 * `POST /v2/keys/rotate`, taking effect at most once: a lost answer is settled
 * by reading the keys (rolled when the live `current` is the recorded `next`);
 * it is sent once, whatever the answer.
 */
async function roll(
  user: IssuedCredentials,
  recorded: SigningKeys,
  what: string,
): Promise<SigningKeys> {
  const operation = `roll ${what} (POST /v2/keys/rotate)`;
  const rerun =
    "Run `pulumi up` again: it reads the keys first, records a roll that took effect, and never rolls twice.";
  return sendOnce({
    send: async () =>
      keysOf(
        await dataPlaneRequest({
          method: "POST",
          host: user.endpoint,
          path: "/v2/keys/rotate",
          token: user.token,
          operation,
          idempotent: false,
          secrets: [user.readOnlyToken],
        }),
        operation,
        user.endpoint,
      ),
    read: () => readKeys(user, what),
    seenIn: (live) => {
      if (live.current === recorded.next) return live;
      if (same(live, recorded)) return undefined;
      throw new PortableError(
        `The roll of ${what} got no usable answer, and the keys read afterwards are neither the recorded pair nor that pair rolled once: they were changed elsewhere. Nothing is sent again. Run \`pulumi refresh\` to record the live keys and roll them out to every receiver.`,
      );
    },
    unreadable: (error, readError) =>
      new RollOutcomeUnknownError(
        `The roll of ${what} got no usable answer (${messageOf(error)}), and reading the keys to find out failed: ${messageOf(readError)} ${rerun}`,
      ),
    notSeen: (error) =>
      new RollOutcomeUnknownError(
        `The roll of ${what} got no usable answer (${messageOf(error)}) and the keys have not changed so far; it is not sent again, since it may still take effect. ${rerun}`,
      ),
  });
}

function outputsFor(user: IssuedCredentials, keys: SigningKeys): Partial<RotationState> {
  return {
    resourceId: user.resourceId,
    qstashApi: user.qstashApi,
    restUrl: user.restUrl,
    endpoint: user.endpoint,
    currentSigningKey: keys.current,
    nextSigningKey: keys.next,
    env: { QSTASH_CURRENT_SIGNING_KEY: keys.current, QSTASH_NEXT_SIGNING_KEY: keys.next },
  };
}

const keysTarget = (inputs: { target: unknown }): QStashSigningKeysTarget =>
  inputs.target as QStashSigningKeysTarget;

async function liveUser(client: UpstashClient, settings: Inputs, state: Partial<RotationState>) {
  return readExistingTarget(client, userTarget(keysTarget(settings)), recordOf(state));
}

/** Create adopts the current keys: no roll, so receivers that work keep working. */
export async function createSigningKeys(
  settings: Inputs,
): Promise<dynamic.CreateResult<RotationState>> {
  const client = clientFor(settings);
  dataPlaneBase();
  const user = await liveUser(client, settings, {});
  const keys = await readKeys(user, describeKeys(keysTarget(settings)));
  const state = compact({
    ...settings,
    ...outputsFor(user, keys),
    rotatedAt: "",
    rotationCount: 0,
    // When the adopted pair was rolled is unknown: as far as the guard goes, just now.
    rollObservedAt: new Date().toISOString(),
  }) as RotationState;
  return { id: signingKeysId(state), outs: state };
}

function guard(olds: RotationState, settings: Inputs, what: string): void {
  const interval = settings.minRollInterval ?? DEFAULT_MIN_ROLL_INTERVAL;
  const seen = [olds.rotatedAt, olds.rollObservedAt]
    .map((at) => (at ? Date.parse(at) : Number.NaN))
    .filter((at) => !Number.isNaN(at));
  if (seen.length === 0) return;
  const last = new Date(Math.max(...seen));
  const end = periodEnd(interval, last);
  if (Date.now() >= end.getTime()) return;
  throw new PortableError(
    `Refusing to roll ${what} again: the last roll was at ${last.toISOString()}, less than minRollInterval (${interval}) ago. Receivers verify with the current and the next key; rolling twice before every receiver has the keys of the last roll replaces both, and they reject every message (Upstash: "Rolling your keys twice without updating your applications will cause your apps to reject all requests"). Roll the new keys out to every receiver first. To roll anyway, set minRollInterval to "0min" for this run. Nothing was changed.`,
  );
}

/**
 * A trigger change rolls the keys once. After an earlier roll whose
 * confirmation failed, any trigger first records and hands out the live keys
 * without rolling; a new trigger then stays pending (the stored trigger is
 * the old one) and rolls at a later `up`, once `minRollInterval` has passed.
 */
export async function updateSigningKeys(
  olds: RotationState,
  settings: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const what = describeKeys(keysTarget(settings));
  const triggerChanged = !sameJson(olds.trigger, settings.trigger);
  const unsettled = olds.currentSigningKey === undefined || olds.nextSigningKey === undefined;
  // Cleared here: a pending roll that is still pending is marked again below.
  const { unknownOutcomeAt, pendingRollSince: _pending, ...kept } = withoutSettings(olds);
  if (!triggerChanged && !unsettled) return { outs: { ...kept, ...settings } as RotationState };
  const client = clientFor(settings);
  dataPlaneBase();
  const user = await liveUser(client, settings, olds);
  const { currentSigningKey: current, nextSigningKey: next } = olds;
  const recorded = current && next ? { current, next } : undefined;
  // A roll an earlier run sent without an answer may still land: wait it out before another.
  const live = await outwaitLateLanding(
    unknownOutcomeAt,
    `The roll of ${what}`,
    await readKeys(user, what),
    () => readKeys(user, what),
    (keys) => !recorded || !same(keys, recorded),
  );
  const carried = withoutHandedOut(kept);
  // Keys recorded after an unconfirmed roll reach receivers only now: the guard counts from here.
  const settled = compact({
    ...carried,
    ...settings,
    ...outputsFor(user, live),
    rollObservedAt: unsettled ? new Date().toISOString() : carried.rollObservedAt,
  }) as RotationState;
  if (!triggerChanged) return { outs: settled };
  if (unsettled || !recorded) {
    // An earlier roll was never confirmed, so its keys never reached receivers: rolling now
    // would be the second roll they did not see. This run hands out the live pair and keeps
    // the earlier trigger, so the new one stays a pending change that rolls once the guard
    // (counted from now) allows it.
    notify(
      "warning",
      `The trigger change of ${what} is pending: an earlier roll was never confirmed, so this run hands out the live keys without rolling. Roll them out to every receiver. Until minRollInterval (${settings.minRollInterval ?? DEFAULT_MIN_ROLL_INTERVAL}) has passed from now, every \`pulumi up\` refuses the pending roll and fails; set the trigger back to keep them green, or set minRollInterval to "0min" once every receiver has these keys.`,
    );
    return {
      outs: { ...settled, trigger: olds.trigger, pendingRollSince: settled.rollObservedAt },
    };
  }
  let rolled: SigningKeys;
  if (same(live, recorded)) {
    guard(olds, settings, what);
    try {
      rolled = await roll(user, recorded, what);
    } catch (error) {
      if (!(error instanceof RollOutcomeUnknownError)) throw error;
      // The keys handed out stay valid after one roll (receivers also verify with `next`), so
      // the state keeps them and the old trigger; the marker keeps the next run from a second roll.
      throw partialFailure(error.message, signingKeysId(olds), {
        ...olds,
        unknownOutcomeAt: new Date().toISOString(),
      });
    }
  } else if (live.current === recorded.next) {
    // One roll already happened since the keys were recorded (an earlier run whose answer was
    // lost, or a roll elsewhere): that is this rotation's roll, not a reason for a second one.
    rolled = live;
  } else {
    throw new PortableError(
      `Refusing to roll ${what}: they changed by more than one roll since this resource recorded them, so receivers may hold neither. Run \`pulumi refresh\` to record the live keys and roll them out to every receiver, then \`pulumi up\`. Nothing was changed.`,
    );
  }
  const state = compact({
    ...carried,
    ...settings,
    ...outputsFor(user, rolled),
    rotatedAt: new Date().toISOString(),
    rotationCount: (olds.rotationCount ?? 0) + 1,
  }) as RotationState;
  if (verifies(settings)) {
    let confirmed = false;
    const deadline = Date.now() + 5000;
    let reason = "the keys read back differ from the rolled ones";
    while (!confirmed && Date.now() < deadline) {
      try {
        confirmed = same(await readKeys(user, what, Math.max(1, deadline - Date.now())), rolled);
      } catch (error) {
        reason = messageOf(error) ?? "unknown error";
      }
      if (!confirmed) await pause(250);
    }
    if (!confirmed) {
      const withoutKeys = withoutHandedOut(state);
      throw partialFailure(
        `${what} were rolled, but reading them back did not confirm the new pair (${reason}). No keys are handed out; run \`pulumi up\` again to record the live keys (without another roll).`,
        signingKeysId(state),
        withoutKeys,
      );
    }
  }
  return { outs: state };
}

/** Refresh records keys rolled elsewhere; a user proven deleted drops the resource. */
export async function readSigningKeys(
  id: string,
  props: RotationState,
): Promise<dynamic.ReadResult<RotationState>> {
  const user = await readTarget(clientFor(props), userTarget(keysTarget(props)), recordOf(props));
  if (!user) return { id: "", props: {} as RotationState };
  const what = describeKeys(keysTarget(props));
  const live = await readKeys(user, what);
  if (props.unknownOutcomeAt && props.currentSigningKey && props.nextSigningKey) {
    // Settled by `up`, which also counts a landed roll as the pending trigger's one roll.
    const landed = live.current === props.nextSigningKey;
    notify(
      "info",
      landed
        ? `${what}: the roll sent at ${props.unknownOutcomeAt} without an answer has landed. Run \`pulumi up\` to record the new keys and hand them out; it rolls no further.`
        : `${what}: a roll sent at ${props.unknownOutcomeAt} got no answer and has not landed so far. The next \`pulumi up\` waits until it can no longer land, then rolls once.`,
    );
    return { id, props };
  }
  const refreshed = compact({ ...props, ...outputsFor(user, live) }) as RotationState;
  if (sameJson(refreshed, props)) return { id, props };
  // Keys changed since they were recorded: a roll receivers may not have seen yet.
  const rolledElsewhere =
    refreshed.currentSigningKey !== props.currentSigningKey ||
    refreshed.nextSigningKey !== props.nextSigningKey;
  // Keys this state held are the ones receivers have; without them (an import, or a roll
  // whose confirmation failed) the reading is news, not a roll made elsewhere.
  const held = props.currentSigningKey !== undefined && props.nextSigningKey !== undefined;
  if (rolledElsewhere && held) {
    notify(
      "warning",
      `${what} were rolled outside Pulumi: receivers may hold keys that no longer verify. Refresh read the live keys into the state; run \`pulumi up\` to pass them on to stack outputs, and roll them out to every receiver (the roll guard, minRollInterval, counts from now).`,
    );
  } else if (rolledElsewhere && props.rotationCount !== undefined && props.rotationCount > 0) {
    notify(
      "warning",
      `${what}: refresh read the keys of the roll whose confirmation failed. Run \`pulumi up\` to hand them out, then roll them out to every receiver.`,
    );
  }
  return {
    id,
    props: rolledElsewhere ? { ...refreshed, rollObservedAt: new Date().toISOString() } : refreshed,
  };
}

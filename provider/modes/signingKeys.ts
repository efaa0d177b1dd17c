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

/** What the steps of one roll ({@link updateSigningKeys}) share; fixed once the keys settle. */
interface KeyRotation {
  olds: RotationState;
  settings: Inputs;
  what: string;
  user: IssuedCredentials;
  /** The pair the state holds, which receivers have; undefined when none was confirmed. */
  recorded: SigningKeys | undefined;
  /** The keys as they are once a roll an earlier run sent without an answer can no longer land. */
  live: SigningKeys;
  /** The earlier state without its markers, settings or handed-out keys. */
  carried: Partial<RotationState>;
  /** The live keys recorded and handed out, as a run that does not roll leaves them. */
  settled: RotationState;
}

/** A roll taken as this rotation's: the pair it left, and when. */
interface RolledKeys extends KeyRotation {
  rolled: SigningKeys;
  rotatedAt: string;
}

/**
 * A trigger change rolls the keys once, in the steps every target goes through
 * (AWS Secrets Manager's create, set, test and finish; the keys exist already,
 * so the first step settles what earlier runs left instead of creating). After
 * an earlier roll whose confirmation failed, any trigger first records and
 * hands out the live keys without rolling; a new trigger then stays pending
 * (the stored trigger is the old one) and rolls at a later `up`, once
 * `minRollInterval` has passed.
 */
export async function updateSigningKeys(
  olds: RotationState,
  settings: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const triggerChanged = !sameJson(olds.trigger, settings.trigger);
  const unsettled = olds.currentSigningKey === undefined || olds.nextSigningKey === undefined;
  // Cleared here: a pending roll that is still pending is marked again below.
  const { unknownOutcomeAt: _unknown, pendingRollSince: _pending, ...kept } = withoutSettings(olds);
  // A roll whose outcome is unknown is settled even when the trigger went back: it may have landed.
  const unknown = olds.unknownOutcomeAt !== undefined;
  if (!triggerChanged && !unsettled && !unknown) {
    return { outs: { ...kept, ...settings } as RotationState };
  }
  // Settle: the live keys, once a roll an earlier run sent without an answer can no longer land,
  // so this run neither misses it nor rolls on top of it; keys an unconfirmed roll left unrecorded
  // are recorded. It only reads: a failure leaves the state as it was, and the next `pulumi up`
  // settles again.
  const rotation = await settleKeys(
    olds,
    settings,
    kept,
    unsettled || (unknown && !triggerChanged),
  );
  if (!triggerChanged) return { outs: rotation.settled };
  if (unsettled || !rotation.recorded) return { outs: deferRoll(rotation) };
  // Set: the one roll, guarded by minRollInterval and sent at most once; a single roll that
  // already landed counts as it. Refused, nothing changed. Its outcome unknown, the handed-out
  // keys are kept (one roll leaves them valid) with the old trigger and a marker: the next
  // `pulumi up` waits until the roll can no longer land, then records it or rolls once.
  const rolled = await setKeys(rotation, rotation.recorded);
  // Test (unless verify is false): receivers get only a pair read back as rolled. Unconfirmed,
  // the roll is recorded with no keys handed out, and the next `pulumi up` records the live
  // keys without another roll.
  await testKeys(rolled);
  // Finish: the rolled pair recorded and handed out as this rotation's.
  return { outs: finishRotation(rolled) };
}

/** Settle: reads the live keys, waiting out a roll an earlier run sent without an answer. */
async function settleKeys(
  olds: RotationState,
  settings: Inputs,
  kept: Partial<RotationState>,
  unsettled: boolean,
): Promise<KeyRotation> {
  const what = describeKeys(keysTarget(settings));
  const client = clientFor(settings);
  dataPlaneBase();
  const user = await liveUser(client, settings, olds);
  const { currentSigningKey: current, nextSigningKey: next } = olds;
  const recorded = current && next ? { current, next } : undefined;
  const live = await outwaitLateLanding(
    olds.unknownOutcomeAt,
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
  return { olds, settings, what, user, recorded, live, carried, settled };
}

/**
 * An earlier roll was never confirmed, so its keys never reached receivers:
 * rolling now would be the second roll they did not see. This run hands out
 * the live pair and keeps the earlier trigger, so the new one stays a pending
 * change that rolls once the guard (counted from now) allows it.
 */
function deferRoll({ olds, settings, what, settled }: KeyRotation): RotationState {
  notify(
    "warning",
    `The trigger change of ${what} is pending: an earlier roll was never confirmed, so this run hands out the live keys without rolling. Roll them out to every receiver. Until minRollInterval (${settings.minRollInterval ?? DEFAULT_MIN_ROLL_INTERVAL}) has passed from now, every \`pulumi up\` refuses the pending roll and fails; set the trigger back to keep them green, or set minRollInterval to "0min" once every receiver has these keys.`,
  );
  return { ...settled, trigger: olds.trigger, pendingRollSince: settled.rollObservedAt };
}

/**
 * Set: rolls the recorded pair once, or takes the one roll already made since
 * it was recorded as this rotation's; refuses when the keys moved further.
 */
async function setKeys(rotation: KeyRotation, recorded: SigningKeys): Promise<RolledKeys> {
  const { olds, settings, what, user, live } = rotation;
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
  return { ...rotation, rolled, rotatedAt: new Date().toISOString() };
}

/** Test: reads the keys back, for up to 5 seconds, until they are the rolled pair. */
async function testKeys(rotation: RolledKeys): Promise<void> {
  const { settings, what, user, rolled } = rotation;
  if (!verifies(settings)) return;
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
  if (confirmed) return;
  // The roll happened, so it is recorded; keys nobody confirmed are not handed out.
  const state = finishRotation(rotation);
  throw partialFailure(
    `${what} were rolled, but reading them back did not confirm the new pair (${reason}). No keys are handed out; run \`pulumi up\` again to record the live keys (without another roll).`,
    signingKeysId(state),
    withoutHandedOut(state),
  );
}

/** Finish: the rolled pair recorded and handed out, counted as one more rotation. */
function finishRotation(rotation: RolledKeys): RotationState {
  const { olds, settings, user, carried, rolled, rotatedAt } = rotation;
  return compact({
    ...carried,
    ...settings,
    ...outputsFor(user, rolled),
    rotatedAt,
    rotationCount: (olds.rotationCount ?? 0) + 1,
  }) as RotationState;
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

/**
 * Redis ACL mode (`target.user` set): overlapping credentials for one ACL
 * user. Each rotation adds a fresh `ACL GENTOKEN` password, proves it as that
 * user (a REST `PING`, and `AUTH` and `PING` over the Redis protocol), then
 * removes the password before the previous one, so after every rotation
 * exactly {current, previous} issued by this resource are valid. ACL commands
 * go over the database's REST API with the database's own REST token, read
 * from the Developer API inside each operation and never exported, stored or
 * put in an error.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  clientFor,
  compact,
  partialFailure,
  revocationRequested,
  sameJson,
  verifies,
  withoutHandedOut,
  withoutSettings,
  type AclPasswords,
  type Inputs,
  type RotationState,
} from "../common";
import { dataPlaneBase, isDataPlaneError } from "../dataPlane/client";
import { sha256 } from "../digest";
import { mayStillLandNow, outwaitLateLanding, sendOnce } from "../exactlyOnce";
import { aclUserInfo, redisCommand, type AclUserInfo } from "../dataPlane/redis";
import { proveHandOut } from "../dataPlane/verify";
import type { UpstashClient } from "../http/client";
import { hasUpstashCode, messageOf, PortableError } from "../http/errors";
import { DEFAULT_ACL_RULES } from "../inputs";
import { notify } from "../notices";
import { proveAbsent, type RedisTarget } from "../targets";
import { redisDriver } from "../targets/redis";
import { fullHost, parseShape, schemaOnce } from "../targets/shapes";

type AclTarget = RedisTarget & { user: string };

/** What the Developer API says about the database, admin channel included. */
interface AclDatabase {
  id: string;
  host: string;
  port: number;
  scheme: string;
  aclEnabled: boolean;
  /** The database's own REST token: ACL commands only, never stored or exported. */
  adminToken: string;
}

interface AclContext {
  target: AclTarget;
  /** Re-read once when the data plane refuses its admin token (see {@link acl}). */
  db: AclDatabase;
  what: string;
  client: UpstashClient;
}

/** Whether a target is in ACL mode. */
export const isAclTarget = (target: { type: string; user?: unknown }): boolean =>
  target.type === "redis" && typeof target.user === "string";

export const aclResourceId = (target: AclTarget): string =>
  `redis/${target.databaseId.trim()}/user/${target.user}`;

const describeUser = (target: AclTarget): string =>
  `ACL user "${target.user}" of Redis database ${target.databaseId.trim()}`;

const ruleArgs = (target: RedisTarget): string[] => [
  "resetkeys",
  "resetchannels",
  "nocommands",
  ...(target.rules ?? DEFAULT_ACL_RULES),
];

/** The target with no rules recorded: whatever rules the program gives next are a change. */
const withoutRules = (target: AclTarget): AclTarget =>
  Object.fromEntries(Object.entries(target).filter(([key]) => key !== "rules")) as AclTarget;

/** Every password digest this resource issued that may still be on the user. */
const ours = (passwords: AclPasswords | undefined): string[] =>
  [passwords?.current, passwords?.previous, ...(passwords?.retired ?? [])].filter(
    (hash): hash is string => typeof hash === "string",
  );

/** The ACL mode cannot work on this database; nothing was changed. */
export class AclUnavailableError extends PortableError {
  constructor(what: string, cause: string) {
    super(
      `${what}: ${cause}. ACL users need a paid Upstash Redis database (the free tier has no ACL). To rotate the database's own credentials instead (no overlap: every holder of the old ones fails until it gets the new ones), remove target.user and target.rules. Nothing was changed.`,
    );
    this.name = "AclUnavailableError";
  }
}

/** Credential Protection hides the admin token the ACL commands need; nothing was changed. */
export class CredentialProtectionError extends PortableError {
  constructor(what: string) {
    super(
      `${what}: the database has Credential Protection, so the Developer API does not show its REST token, and the ACL mode needs that token to run ACL commands (Upstash also turns off ACL management with it). To rotate the database's own credentials instead, remove target.user and target.rules: each reset's answer carries the new credentials, which are handed out from there. Turning Credential Protection off also works, but it revokes the current credentials at once. Nothing was changed.`,
    );
    this.name = "CredentialProtectionError";
  }
}

/** A password SETUSER without a clear answer whose effect GETUSER did not settle. */
class AclChangeUnknownError extends PortableError {
  /** `finding`: what the readings showed, or why there were none. */
  constructor(what: string, sendError: unknown, finding: string) {
    super(
      `ACL SETUSER for ${what} got no usable answer (${messageOf(sendError) ?? "unknown error"}), and ${finding}. It may still take effect, so it is not sent again. Run \`pulumi up\` again: it reads the user first and finishes the rotation.`,
    );
    this.name = "AclChangeUnknownError";
  }
}

/** The database fields ACL mode needs: where to connect, its admin token, whether ACL is on. */
const aclDatabaseSchema = schemaOnce("redis.aclDatabase", (z) =>
  z.object({
    database_id: z.string().min(1),
    endpoint: z.string().min(1),
    port: z.number().int().positive(),
    rest_token: z.string().optional(),
    tls: z.boolean().optional(),
    db_acl_enabled: z.union([z.string(), z.boolean()]).optional(),
  }),
);

async function readDatabase(
  client: UpstashClient,
  target: AclTarget,
  mustExist: boolean,
): Promise<AclDatabase | undefined> {
  const id = target.databaseId.trim();
  try {
    return await client.call({
      method: "GET",
      path: `/v2/redis/database/${encodeURIComponent(id)}`,
      operation: "read Redis database",
      targetId: id,
      idempotent: true,
      parse: (body) => {
        const db = parseShape(aclDatabaseSchema(), body);
        return {
          id: db.database_id,
          host: fullHost(db.endpoint, ".upstash.io"),
          port: db.port,
          scheme: db.tls === false ? "redis" : "rediss",
          aclEnabled: String(db.db_acl_enabled ?? "true") !== "false",
          adminToken: db.rest_token ?? "",
        };
      },
    });
  } catch (error) {
    if (!hasUpstashCode(error, "not_found")) throw error;
    await proveAbsent(redisDriver, client, target, { id }, error);
    if (mustExist) throw error;
    return undefined;
  }
}

/** The database and its admin channel; refuses before any ACL call when ACL is off. */
async function contextFor(
  client: UpstashClient,
  target: AclTarget,
  mustExist: boolean,
): Promise<AclContext | undefined> {
  const db = await readDatabase(client, target, mustExist);
  if (!db) return undefined;
  const what = describeUser(target);
  if (!db.adminToken) throw new CredentialProtectionError(what);
  if (!db.aclEnabled) {
    throw new AclUnavailableError(what, 'the Developer API reports db_acl_enabled: "false"');
  }
  return { target, db, what, client };
}

/**
 * One ACL command with the database's admin token. A reset of the same
 * database in the same `up` (another resource) replaces the token this run
 * read, so a 401 re-reads it once and sends again: a refused token runs
 * nothing, so even a password change cannot take effect twice.
 */
async function acl(
  ctx: AclContext,
  args: string[],
  idempotent: boolean,
  secrets: string[] = [],
): Promise<unknown> {
  const send = () =>
    redisCommand(ctx.db.host, ctx.db.adminToken, ["ACL", ...args], {
      operation: `ACL ${args[0]} for ${ctx.what}`,
      idempotent,
      secrets: [ctx.db.adminToken, ...secrets],
    });
  try {
    return await send();
  } catch (error) {
    if (!isDataPlaneError(error, "unauthorized")) throw error;
    const fresh = await readDatabase(ctx.client, ctx.target, true);
    if (!fresh?.adminToken || fresh.adminToken === ctx.db.adminToken) throw error;
    ctx.db = fresh;
    return send();
  }
}

/**
 * A database that has ACL yet refuses one of the commands this mode needs
 * (`ACL GENTOKEN` unknown, `SETUSER` refused with NOPERM): the same dead end
 * as no ACL at all, so the same guidance.
 */
function refusedCommand(ctx: AclContext, command: string, error: unknown): Error {
  const said = isDataPlaneError(error) ? (error.upstashMessage ?? "") : "";
  return isDataPlaneError(error, "bad_request") && /^(NOPERM|ERR unknown (sub)?command)/i.test(said)
    ? new AclUnavailableError(
        ctx.what,
        `the database refused ACL ${command} (Upstash said: "${said}")`,
      )
    : (error as Error);
}

/** `ACL GETUSER`; a 400 means the database refuses ACL over REST. */
async function getUser(ctx: AclContext): Promise<AclUserInfo | undefined> {
  try {
    return aclUserInfo(await acl(ctx, ["GETUSER", ctx.target.user], true));
  } catch (error) {
    if (isDataPlaneError(error, "bad_request")) {
      throw new AclUnavailableError(
        ctx.what,
        `the database refused ACL over its REST API (Upstash said: "${error.upstashMessage ?? ""}")`,
      );
    }
    throw error;
  }
}

/** `ACL GENTOKEN`: changes nothing on the user, so repeating it is harmless. */
async function genToken(ctx: AclContext): Promise<string> {
  let token: unknown;
  try {
    token = await acl(ctx, ["GENTOKEN", ctx.target.user], true);
  } catch (error) {
    throw refusedCommand(ctx, "GENTOKEN", error);
  }
  if (typeof token !== "string" || token.length < 16) {
    throw new PortableError(`ACL GENTOKEN for ${ctx.what} did not answer a token.`);
  }
  return token;
}

/**
 * One `ACL SETUSER` that changes passwords, taking effect at most once: it is
 * sent once, and an unknown outcome (no answer, any 5xx) is settled by
 * `ACL GETUSER` (`applied`). A SETUSER is atomic: when `applied` sees its password change,
 * rules sent with it took effect too. Rules never go with a removal, whose
 * "does not exist" refusal would hide that they were not applied.
 */
async function setUser(
  ctx: AclContext,
  rules: string[],
  applied: (info: AclUserInfo | undefined) => boolean,
  secrets: string[] = [],
): Promise<void> {
  await sendOnce({
    send: async () => {
      try {
        await acl(ctx, ["SETUSER", ctx.target.user, ...rules], false, secrets);
      } catch (error) {
        // Removing a password that is already gone fails the whole command; that is only
        // success when the reading shows the goal reached (a late duplicate, say).
        const raced =
          isDataPlaneError(error, "bad_request") &&
          /does not exist/i.test(error.upstashMessage ?? "");
        if (!raced || !applied(await getUser(ctx))) throw error;
      }
      return true;
    },
    read: () => getUser(ctx),
    seenIn: (info) => (applied(info) ? true : undefined),
    unreadable: (error, readError) =>
      new AclChangeUnknownError(
        ctx.what,
        error,
        `reading the user to find out failed: ${messageOf(readError) ?? "unknown error"}`,
      ),
    notSeen: (error) =>
      new AclChangeUnknownError(ctx.what, error, "ACL GETUSER showed no change over 3 readings"),
  });
}

/** Removes `hashes` from the user where GETUSER shows them; never fails on one already gone. */
async function removePasswords(
  ctx: AclContext,
  hashes: string[],
  live?: AclUserInfo,
): Promise<void> {
  if (hashes.length === 0) return;
  const info = live ?? (await getUser(ctx));
  const present = hashes.filter((hash) => info?.passwords.includes(hash));
  if (present.length === 0) return;
  await setUser(
    ctx,
    present.map((hash) => `!${hash}`),
    (now) => !now || present.every((hash) => !now.passwords.includes(hash)),
  );
}

function outputsFor(ctx: AclContext, token: string): Partial<RotationState> {
  const { db, target } = ctx;
  const restUrl = `https://${db.host}`;
  return {
    resourceId: db.id,
    user: target.user,
    token,
    password: token,
    restUrl,
    endpoint: db.host,
    port: db.port,
    redisUrl: `${db.scheme}://${encodeURIComponent(target.user)}:${encodeURIComponent(token)}@${db.host}:${db.port}`,
    env: { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: token },
  };
}

/**
 * The rules a SETUSER applies: all of them for a user this resource creates
 * (the defaults when none are given), a changed set when given, and none when
 * `rules` is left out for an existing user, whose own rules then stay.
 */
function rulesToApply(target: AclTarget, creating: boolean, rulesChanged: boolean): string[] {
  if (creating) return ruleArgs(target);
  return rulesChanged && target.rules !== undefined ? ruleArgs(target) : [];
}

/** What the steps of one rotation ({@link issue}) share; fixed once the new password exists. */
interface AclRotation {
  ctx: AclContext;
  settings: Inputs;
  /** The state before this run; undefined on create. */
  previous: RotationState | undefined;
  /** `rotate` adds the new password next to the current one; `revoke` replaces them all. */
  mode: "rotate" | "revoke";
  /** The user as this run found it; undefined when the rotation creates it. */
  before: AclUserInfo | undefined;
  creating: boolean;
  /** The rules this rotation applies; none leaves the user's own. */
  rules: string[];
  userCreated: boolean | undefined;
  token: string;
  /** The new password's digest, all the state ever keeps of it. */
  hash: string;
}

/** A rotation recorded as done, with the older passwords it still has to remove. */
interface RecordedRotation extends AclRotation {
  state: RotationState;
  retire: string[];
}

/**
 * One rotation of the ACL user's password, in the steps every target goes
 * through (AWS Secrets Manager's create, set, test and finish). `rotate` adds
 * the new password next to the current one (which becomes the previous);
 * `revoke` replaces every password of the user with it in one call. Nothing is
 * removed or handed out before the new password is proven, and a rotation
 * whose proof fails is undone by removing that password: nothing else changed.
 */
async function issue(
  ctx: AclContext,
  settings: Inputs,
  previous: RotationState | undefined,
  mode: "rotate" | "revoke",
  rulesChanged: boolean,
): Promise<RotationState> {
  // Create: a fresh password from the database itself. GENTOKEN changes nothing on the user, so
  // a failure here (or the user found switched off) leaves all as it was, and the next
  // `pulumi up` starts over.
  const rotation = await createPassword(ctx, settings, previous, mode, rulesChanged);
  // Set: the one password SETUSER, sent at most once. Refused, it changed nothing. Its fate
  // unknown, the old settings are kept with the new password marked to retire; the next
  // `pulumi up` waits until it can no longer land, then issues afresh and removes it.
  await setPassword(rotation);
  // Test (unless verify is false): no consumer gets a password the data plane refuses. A
  // failure withdraws it, leaving the user as it was (if that fails too, it is marked to
  // retire), and the next `pulumi up` tries again. A revoke has nothing to go back to: it
  // records that nothing is handed out, and the next `pulumi up` issues a fresh one.
  await testPassword(rotation);
  // Finish: record and hand out the new password, apply rules, retire older passwords. Rules
  // the database refuses withdraw it as a failed test does; any other failure records it as
  // current but undelivered, with what is left to retire, and the next `pulumi up` finishes
  // that without issuing another.
  return finishRotation(rotation);
}

/** Create: reads the user and mints the new password with `ACL GENTOKEN`. */
async function createPassword(
  ctx: AclContext,
  settings: Inputs,
  previous: RotationState | undefined,
  mode: "rotate" | "revoke",
  rulesChanged: boolean,
): Promise<AclRotation> {
  const before = await getUser(ctx);
  // Incident response may find the user switched off: revoking leaves only the new password,
  // so switching it back on re-enables nothing that leaked.
  if (before && !before.enabled && mode !== "revoke") {
    throw new PortableError(
      `${ctx.what} is disabled (off), so no password of it works: enable it (ACL SETUSER … on) or delete the user to let this resource recreate it. Nothing was changed.`,
    );
  }
  const token = await genToken(ctx);
  const creating = before === undefined;
  return {
    ctx,
    settings,
    previous,
    mode,
    before,
    creating,
    rules: rulesToApply(ctx.target, creating, rulesChanged),
    userCreated: creating || previous?.userCreated,
    token,
    hash: sha256(token),
  };
}

/** Set: adds the new password to the user (`revoke`: replaces every password with it). */
async function setPassword(rotation: AclRotation): Promise<void> {
  const { ctx, creating, mode, rules, token, hash } = rotation;
  // A new user gets its rules at once (undone by deleting it), and so does a revoke; on an
  // existing user, a rotation's rules wait for the proof.
  const args = creating
    ? ["on", `>${token}`, ...rules]
    : mode === "revoke"
      ? ["resetpass", `>${token}`, "on", ...rules]
      : [`>${token}`];
  try {
    await setUser(
      ctx,
      args,
      (info) =>
        info !== undefined &&
        info.passwords.includes(hash) &&
        (mode !== "revoke" || info.passwords.length === 1),
      [token],
    );
  } catch (error) {
    // Refused outright, the first SETUSER changed nothing: GENTOKEN alone leaves the user as is.
    if ((error as { name?: unknown }).name !== "AclChangeUnknownError") {
      throw refusedCommand(ctx, "SETUSER", error);
    }
    throw unknownFate(
      rotation,
      `${(messageOf(error) ?? "unknown error").replace(/\.*$/, ".")}`,
      true,
    );
  }
}

/**
 * Test: the new password proven as the user, over REST and the Redis
 * protocol, before anything is removed or handed out.
 */
async function testPassword(rotation: AclRotation): Promise<void> {
  const { ctx, settings, previous, mode, token, hash } = rotation;
  if (!verifies(settings)) return;
  try {
    const { redisUrl } = outputsFor(ctx, token);
    await proveHandOut("redis", { endpoint: ctx.db.host, token, redisUrl }, ctx.what);
  } catch (error) {
    const reason = messageOf(error) ?? "unknown error";
    // A revoke's SETUSER took every other password with it: there is nothing to go back to.
    if (mode === "revoke") {
      throw partialFailure(
        `Every password of ${ctx.what} was revoked (resetpass), but the data plane rejected the new one: ${reason} No credential is handed out. Run \`pulumi up\` again to issue a fresh one.`,
        aclResourceId(ctx.target),
        {
          ...withoutHandedOut(previous ?? {}),
          ...settings,
          userCreated: rotation.userCreated,
          aclPasswords: { retired: [hash] },
        },
      );
    }
    await withdraw(
      rotation,
      `The new password of ${ctx.what} was rejected by the data plane`,
      reason,
    );
  }
}

/**
 * Finish: records the new password as the one handed out; a rotation on an
 * existing user then applies its rules and retires the older passwords.
 */
async function finishRotation(rotation: AclRotation): Promise<RotationState> {
  const { ctx, settings, previous, mode, before, creating, rules, token, hash } = rotation;
  const kept = keptPassword(rotation);
  const state = compact({
    ...settings,
    ...outputsFor(ctx, token),
    userCreated: rotation.userCreated,
    aclPasswords: compact({ current: hash, previous: kept }),
    rotatedAt: new Date().toISOString(),
    rotationCount: (previous?.rotationCount ?? 0) + 1,
  }) as RotationState;
  // A revoke's SETUSER already left only the new password and its rules, as did a new user's.
  if (mode === "revoke" || creating) return state;
  // With a handed-out password kept, every other one goes (a replaced resource's, one added
  // by hand): exactly {previous, new} remain. Without one, nothing was handed out that
  // consumers moved to, so only this resource's own leftovers go.
  const retire = (kept ? (before?.passwords ?? []) : ours(previous?.aclPasswords)).filter(
    (h) => h !== kept && h !== hash && before?.passwords.includes(h),
  );
  const recorded: RecordedRotation = { ...rotation, state, retire };
  // Rules first, on their own: a SETUSER of rules alone changes no password, so the client may
  // repeat it, and a refusal is undone by withdrawing the new password while the old still work.
  if (rules.length > 0) {
    try {
      await acl(ctx, ["SETUSER", ctx.target.user, ...rules], true);
    } catch (error) {
      if (isDataPlaneError(error, "bad_request")) {
        await withdraw(
          rotation,
          `The database refused the new rules of ${ctx.what}`,
          messageOf(error) ?? "bad request",
          "the new password",
        );
      }
      throw unfinished(recorded, "applying the new rules", error, {
        target: withoutRules(ctx.target),
      });
    }
  }
  try {
    await removePasswords(ctx, retire);
  } catch (error) {
    throw unfinished(recorded, "removing the older passwords", error, {});
  }
  return state;
}

/**
 * The password a rotation keeps for consumers who have not moved yet: the
 * current one (every recorded current was handed out), else the previous one,
 * whichever is still on the user; the previous one first when the current
 * never reached anyone (a failed run recorded it). A revoke keeps none.
 */
function keptPassword({ mode, previous, before }: AclRotation): string | undefined {
  if (mode !== "rotate") return undefined;
  const recorded = [previous?.aclPasswords?.current, previous?.aclPasswords?.previous];
  return (previous?.aclPasswords?.undelivered ? recorded.reverse() : recorded).find(
    (h): h is string => typeof h === "string" && before?.passwords.includes(h) === true,
  );
}

/**
 * The partial failure when the new password's fate stays unknown: the old
 * settings (so the next `up` issues again), no credential that may be dead,
 * and the new password recorded to be removed.
 */
function unknownFate(rotation: AclRotation, cause: string, mayStillLand = false): Error {
  const { ctx, settings, previous, mode, creating, hash } = rotation;
  // A revoke may have killed the old credentials, and a user that had to be recreated
  // took them with it when it went.
  // An earlier marker is settled by now; only this change's own may be recorded below.
  const { unknownOutcomeAt: _settled, ...earlier } = previous ?? {};
  const kept = previous
    ? mode === "revoke" || creating
      ? withoutHandedOut(earlier)
      : earlier
    : { ...settings, rotatedAt: "", rotationCount: 0 };
  // Only a rotation on an existing user sent no rules: its recorded target is still right.
  // Any other records none, so the next `up` applies whichever rules the program gives
  // (sending rules again changes nothing).
  const target =
    previous && !creating && mode === "rotate" ? previous.target : withoutRules(ctx.target);
  return partialFailure(
    `${cause} Run \`pulumi up\` again: it issues a fresh password and removes this one.`,
    aclResourceId(ctx.target),
    {
      ...kept,
      target,
      userCreated: rotation.userCreated,
      aclPasswords: {
        ...previous?.aclPasswords,
        retired: [...(previous?.aclPasswords?.retired ?? []), hash],
      },
      // The next run waits until this SETUSER can no longer land before sending another.
      ...(mayStillLand ? { unknownOutcomeAt: new Date().toISOString() } : {}),
    },
  );
}

/** What holders of the old credentials can expect once the new password is withdrawn. */
function heldBefore({ creating, previous }: AclRotation): string {
  if (!creating) return "The credentials handed out before still work.";
  return previous?.token !== undefined
    ? "The credentials handed out before died with the user, which was gone; the next `pulumi up` recreates it."
    : "No credential was handed out.";
}

/** Undoes an overlap rotation: the new password goes, everything else is as it was. */
async function withdraw(
  rotation: AclRotation,
  lead: string,
  reason: string,
  password = "it",
): Promise<never> {
  const { ctx, creating, hash } = rotation;
  try {
    const info = await getUser(ctx);
    if (creating && info?.passwords.length === 1 && info.passwords[0] === hash) {
      await acl(ctx, ["DELUSER", ctx.target.user], true);
    } else await removePasswords(ctx, [hash], info);
  } catch (rollbackError) {
    throw unknownFate(
      rotation,
      `${lead} (${reason}), and removing ${password} again failed: ${messageOf(rollbackError) ?? "unknown error"}. ${heldBefore(rotation)}`,
    );
  }
  throw new PortableError(
    `${lead}, so ${password} was removed again and nothing changed. ${heldBefore(rotation)} ${reason}`,
  );
}

/**
 * The partial failure of a step after the new password was recorded: it stays
 * current but undelivered, with what is left to retire, so the next `up`
 * finishes without issuing another.
 */
function unfinished(
  { ctx, state, retire }: RecordedRotation,
  step: string,
  error: unknown,
  pending: Partial<RotationState>,
): Error {
  return partialFailure(
    `A new password of ${ctx.what} was issued, proven and recorded, but ${step} failed: ${messageOf(error) ?? "unknown error"} Run \`pulumi up\` again to finish.`,
    aclResourceId(ctx.target),
    {
      ...state,
      ...pending,
      aclPasswords: { ...state.aclPasswords, retired: retire, undelivered: true },
    },
  );
}

function aclTargetOf(inputs: { target: unknown }): AclTarget {
  return inputs.target as AclTarget;
}

export async function createAcl(settings: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  const target = aclTargetOf(settings);
  const client = clientFor(settings);
  dataPlaneBase();
  const ctx = (await contextFor(client, target, true)) as AclContext;
  const state = await issue(ctx, settings, undefined, "rotate", true);
  return { id: aclResourceId(target), outs: state };
}

/**
 * A password change sent without an answer may still land (a `resetpass` among them would
 * then kill what this run issues): wait it out, settled early when its password shows up.
 */
async function outwaitPasswordChange(
  ctx: AclContext,
  since: string,
  retired: string[],
): Promise<void> {
  await outwaitLateLanding(
    since,
    `The password change of ${ctx.what}`,
    await getUser(ctx),
    () => getUser(ctx),
    // The change's own password is the one its failed run appended last: an older leftover
    // still on the user says nothing about whether this change landed.
    (info) => info?.passwords.includes(retired[retired.length - 1]) === true,
  );
}

export async function updateAcl(
  olds: RotationState,
  settings: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const target = aclTargetOf(settings);
  const triggerChanged = !sameJson(olds.trigger, settings.trigger);
  const revoke = revocationRequested(olds.revokeAllOn, settings.revokeAllOn);
  // Rules left out leave the user's rules as they are: only given rules are a change.
  const rulesChanged =
    target.rules !== undefined && !sameJson(aclTargetOf(olds).rules, target.rules);
  const unsettled = olds.token === undefined;
  const retired = olds.aclPasswords?.retired ?? [];
  const { unknownOutcomeAt, ...kept } = withoutSettings(olds);
  const undelivered = olds.aclPasswords?.undelivered === true;
  if (
    !triggerChanged &&
    !revoke &&
    !rulesChanged &&
    !unsettled &&
    retired.length === 0 &&
    !undelivered
  ) {
    return { outs: { ...kept, ...settings } as RotationState };
  }
  const client = clientFor(settings);
  dataPlaneBase();
  const ctx = (await contextFor(client, target, true)) as AclContext;
  if (unknownOutcomeAt) await outwaitPasswordChange(ctx, unknownOutcomeAt, retired);
  if (revoke) return { outs: await issue(ctx, settings, olds, "revoke", rulesChanged) };
  // A refresh found the handed-out password gone and dropped it: this up heals that.
  if (unsettled && !triggerChanged && olds.aclPasswords?.current === undefined) {
    notify(
      "warning",
      `${ctx.what}: no working password is recorded (a refresh found the one handed out gone, or an earlier run failed before recording one); issuing a new one now. Consumers pick it up from the outputs of this \`pulumi up\`.`,
    );
  }
  if (triggerChanged || unsettled) {
    return { outs: await issue(ctx, settings, olds, "rotate", rulesChanged) };
  }
  const info = await getUser(ctx);
  // The user is gone, or the password handed out is no longer on it: issue a new one.
  const current = olds.aclPasswords?.current;
  if (!info || !current || !info.passwords.includes(current)) {
    notify(
      "warning",
      `${ctx.what}: ${info ? "the password handed out was removed outside Pulumi" : "the user was deleted outside Pulumi"}; issuing a new one now. Consumers pick it up from the outputs.`,
    );
    return { outs: await issue(ctx, settings, olds, "rotate", true) };
  }
  const rules = rulesToApply(target, false, rulesChanged);
  // Rules alone change no password, so sending them twice does no harm.
  if (rules.length > 0) await acl(ctx, ["SETUSER", target.user, ...rules], true);
  await removePasswords(ctx, retired, info);
  const passwords = compact({ ...olds.aclPasswords, retired: undefined, undelivered: undefined });
  return { outs: { ...kept, ...settings, aclPasswords: passwords } as RotationState };
}

/**
 * Refresh: the user gone, disabled, or without the current password means
 * the credentials handed out no longer work; they are dropped from the state
 * (consumers get none) and the next `pulumi up` issues new ones.
 */
export async function readAcl(
  id: string,
  props: RotationState,
): Promise<dynamic.ReadResult<RotationState>> {
  const target = aclTargetOf(props);
  const client = clientFor(props);
  const db = await readDatabase(client, target, false);
  if (!db) return { id: "", props: {} as RotationState };
  if (!db.adminToken) throw new CredentialProtectionError(describeUser(target));
  const ctx: AclContext = { target, db, what: describeUser(target), client };
  const info = db.aclEnabled ? await getUser(ctx) : undefined;
  const live = info?.enabled ? info.passwords : [];
  const current = props.aclPasswords?.current;
  const working = props.token !== undefined && current !== undefined && live.includes(current);
  // No ACL reading (ACL switched off): nothing proves the passwords gone, so their digests
  // stay; a later delete with onDelete "rotate" needs them to revoke what was handed out.
  const passwords =
    !info && !db.aclEnabled
      ? (props.aclPasswords ?? {})
      : compact({
          current: current && info?.passwords.includes(current) ? current : undefined,
          previous:
            props.aclPasswords?.previous && info?.passwords.includes(props.aclPasswords.previous)
              ? props.aclPasswords.previous
              : undefined,
          retired: props.aclPasswords?.retired?.filter((hash) => info?.passwords.includes(hash)),
          undelivered: props.aclPasswords?.undelivered,
        });
  if (props.token !== undefined && !working) {
    const why = !info
      ? db.aclEnabled
        ? "the user was deleted outside Pulumi"
        : "ACL is switched off on the database"
      : !info.enabled
        ? "the user is switched off"
        : "the password handed out was removed outside Pulumi";
    notify(
      "warning",
      `${ctx.what}: ${why}, so the credentials in the outputs no longer work. Refresh dropped them; the next \`pulumi up\` issues a new password.`,
    );
  }
  const refreshed = compact({
    ...withoutHandedOut(props),
    ...(working
      ? outputsFor(ctx, props.token as string)
      : { resourceId: db.id, user: target.user }),
    aclPasswords: passwords,
  }) as RotationState;
  return { id, props: sameJson(refreshed, props) ? props : refreshed };
}

/**
 * onDelete "rotate": delete the user this resource created (every password
 * it has dies), unless it holds passwords this resource never issued (a
 * replacement added its own); otherwise, and for a user it found, remove only
 * this resource's passwords. Fails loudly when that cannot be done.
 */
export async function deleteAcl(props: RotationState): Promise<void> {
  const target = aclTargetOf(props);
  // A replacement creates once this delete is done: nothing of it may die by a late landing.
  const since = props.unknownOutcomeAt;
  if (since !== undefined && mayStillLandNow(since)) {
    const ctx = await contextFor(clientFor(props), target, false);
    if (ctx) await outwaitPasswordChange(ctx, since, props.aclPasswords?.retired ?? []);
  }
  if ((props.onDelete ?? "keep") !== "rotate") return;
  try {
    const ctx = await contextFor(clientFor(props), target, false);
    if (!ctx) return; // the database is gone, and its users with it
    const info = await getUser(ctx);
    if (!info) return;
    const mine = ours(props.aclPasswords);
    if (mine.length === 0 && props.token !== undefined) {
      throw new Error(
        "the state holds no record of the passwords this resource handed out, so it cannot tell them from others on the user",
      );
    }
    if (props.userCreated && info.passwords.every((hash) => mine.includes(hash))) {
      await acl(ctx, ["DELUSER", target.user], true);
    } else await removePasswords(ctx, mine, info);
  } catch (error) {
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `onDelete "rotate": could not revoke the passwords of ${describeUser(target)}: ${messageOf(error) ?? "unknown error"}`,
    );
  }
}

/**
 * What the provider does, one exported function per operation. This module is
 * itself the provider object stored in state (see rotationProvider.ts), so an
 * installed package stores a small text that requires this module by path:
 * `dist/provider/operations.js` and these export names are therefore a
 * compatibility promise to every state written by an earlier version
 * (tests/provider/upgrade.test.ts runs 0.1.0's stored text against them).
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  clientFor,
  compact,
  partialFailure as partialFailureOf,
  revocationRequested,
  sameJson,
  sameProviderCode,
  settingsOf,
  verifies,
  withoutHandedOut,
  withoutSettings,
  type Inputs,
  type PendingRotation,
  type RotationState,
} from "./common";
import { rememberConfiguredCredentials } from "./credentials";
import { dataPlaneBase, isDataPlaneError } from "./dataPlane/client";
import { sha256 as tokenDigest } from "./digest";
import { proveHandOut } from "./dataPlane/verify";
import type { UpstashClient } from "./http/client";
import { mayStillLandNow, outwaitLateLanding } from "./exactlyOnce";
import { statusOf } from "./status";
import { messageOf, PortableError } from "./http/errors";
import { checkInputs } from "./inputs";
import { notify } from "./notices";
import { createAcl, deleteAcl, isAclTarget, readAcl, updateAcl } from "./modes/redisAcl";
import { createSigningKeys, readSigningKeys, updateSigningKeys } from "./modes/signingKeys";
import {
  CredentialRejectedError,
  describeTarget,
  isRotatedButUnread,
  isUnrecordedRotation,
  mayStillLand,
  readExistingTarget,
  readTarget,
  rotateTarget,
  type IssuedCredentials,
  type ResetTarget,
  type RotationRecord,
  type RotationTarget,
  type UnrecordedRotationError,
} from "./targets";
import { canonicalJson, containsUnknown, triggerFingerprint } from "./trigger";

export {
  CREDENTIAL_OUTPUTS,
  type Inputs,
  type PendingRotation,
  type RotationState,
} from "./common";

/** Whether the live token is still the one a pending rotation started from. */
function stillPrevious(pending: PendingRotation | undefined, live: IssuedCredentials): boolean {
  return pending !== undefined && tokenDigest(live.token) === pending.previousTokenSha256;
}

/** State fields that describe the credentials; refresh replaces all of them together. */
const CREDENTIAL_FIELDS: (keyof IssuedCredentials)[] = [
  "resourceId",
  "token",
  "readOnlyToken",
  "restUrl",
  "endpoint",
  "password",
  "port",
  "redisUrl",
  "env",
  "qstashApi",
];

/**
 * What an earlier state contributes to the next one: its bookkeeping and what
 * identifies the target, but neither its credentials, its settings, an open
 * `pendingRotation` nor 0.1.0's trigger hash.
 */
function carriedOver(previous: Partial<RotationState>): Partial<RotationState> {
  const dropped = new Set<string>([
    ...CREDENTIAL_FIELDS.filter((key) => key !== "resourceId" && key !== "qstashApi"),
    "pendingRotation",
    "unknownOutcomeAt",
    "changedOutsideAt",
  ]);
  return withoutSettings(
    Object.fromEntries(Object.entries(previous).filter(([key]) => !dropped.has(key))),
  );
}

function recordOf(state: Partial<RotationState>): RotationRecord {
  return { resourceId: state.resourceId, qstashApi: state.qstashApi };
}

function givenId(target: RotationTarget): string | undefined {
  const id =
    target.type === "redis"
      ? target.databaseId
      : target.type === "qstash" || target.type === "qstash-signing-keys"
        ? target.qstashUserId
        : target.indexId;
  return id?.trim() || undefined;
}

/** `redis/<id>`, …, `qstash/<userId>`, or `qstash/account` for the account-level QStash API. */
function resourceIdFor(state: Pick<RotationState, "target" | "resourceId" | "qstashApi">): string {
  if (state.qstashApi === "legacy") return "qstash/account";
  return `${state.target.type}/${state.resourceId || givenId(state.target) || "account"}`;
}

/** The target a resource id names, for `read` without state (import, `CredentialRotation.get`). */
function targetFromId(id: string): RotationTarget {
  const [type, rest] = [id.slice(0, id.indexOf("/")), id.slice(id.indexOf("/") + 1)];
  if (type === "redis" && rest.includes("/user/")) {
    throw new PortableError(
      `CredentialRotation cannot read "${id}": an ACL user's passwords cannot be read back (Redis keeps only their hashes). Declare the resource instead; its first \`pulumi up\` issues a password.`,
    );
  }
  if (id.includes("/") && rest.trim() !== "") {
    if (type === "redis") return { type, databaseId: rest };
    if (type === "vector" || type === "search") return { type, indexId: rest };
    if (type === "qstash") return rest === "account" ? { type } : { type, qstashUserId: rest };
    if (type === "qstash-signing-keys") {
      return rest === "account" ? { type } : { type, qstashUserId: rest };
    }
  }
  throw new PortableError(
    `CredentialRotation cannot read "${id}": ids look like redis/<databaseId>, vector/<indexId>, search/<indexId>, qstash/<qstashUserId>, qstash/account or qstash-signing-keys/<qstashUserId>.`,
  );
}

/**
 * The rotation's outcome could not be recorded: record the resource without
 * credentials (a partial failure, so the engine keeps it) and with the token
 * that was live before, so refresh or the next update can tell whether the
 * reset took effect. Refresh needs management credentials given as inputs,
 * so they go along as engine secrets.
 */
function partialFailure(
  error: UnrecordedRotationError,
  state: Partial<RotationState>,
  previousToken: string,
  previousHandedOut: boolean,
): Error {
  return partialFailureOf(error.message, resourceIdFor(state as RotationState), {
    ...carriedOver(state),
    email: state.email,
    apiKey: state.apiKey,
    pendingRotation: {
      previousTokenSha256: tokenDigest(previousToken),
      previousHandedOut,
    } satisfies PendingRotation,
    // A reset that may still land: the next run waits it out before sending another.
    ...(mayStillLand(error) ? { unknownOutcomeAt: new Date().toISOString() } : {}),
  });
}

/**
 * Proves freshly issued credentials against the target's data plane, each
 * with itself (unless `verify: false`): the token, the read-only token and a
 * Redis password. A reset cannot be undone, so a rejected credential is a
 * partial failure that hands none of them out. Every path that records
 * credentials nobody has handed out yet comes through here.
 */
async function proveIssued(settings: Inputs, issued: IssuedCredentials): Promise<void> {
  if (!verifies(settings)) return;
  const target = settings.target as ResetTarget;
  try {
    await proveHandOut(target.type, issued, describeTarget(target));
  } catch (error) {
    throw new CredentialRejectedError(describeTarget(target), error);
  }
}

/**
 * One rotation from the credentials read just before it (`before`) to a new
 * state. `handedOut`: whether this resource's outputs carried `before`.
 */
async function rotate(
  client: UpstashClient,
  settings: Inputs,
  previous: Partial<RotationState> | undefined,
  before: IssuedCredentials,
  handedOut: boolean,
): Promise<RotationState> {
  const state: RotationState = {
    ...(previous ? carriedOver(previous) : {}),
    ...recordOf(before),
    ...settings,
    rotatedAt: new Date().toISOString(),
    rotationCount: (previous?.rotationCount ?? 0) + 1,
  };
  try {
    const issued = await rotateTarget(client, settings.target as ResetTarget, before);
    await proveIssued(settings, issued);
    return compact({ ...state, ...issued });
  } catch (error) {
    if (isUnrecordedRotation(error)) {
      throw partialFailure(error, state, before.token, handedOut);
    }
    throw error;
  }
}

/** Same target, whatever the whitespace around its id; an ACL user is part of it. */
function targetKey(target: RotationTarget): string {
  const user = target.type === "redis" && target.user !== undefined ? `/user/${target.user}` : "";
  return `${target.type}/${givenId(target) ?? ""}${user}`;
}

/** What names the target: unknown in preview, it may be another one; an unknown `rules` may not. */
function namingParts(target: RotationTarget): unknown[] {
  if (typeof target !== "object" || target === null) return [target];
  return [target.type, givenId(target), target.type === "redis" ? target.user : undefined];
}

/** The targets whose user may be resolved: naming the resolved one later is the same user. */
const resolvesUser = (target: RotationTarget): boolean =>
  target.type === "qstash" || target.type === "qstash-signing-keys";

/**
 * Whether `news.target` addresses something else than the resource does. A
 * QStash target that now names the user it was resolved to is the same user,
 * and so is one that leaves the name out again: the recorded user is used.
 */
function targetReplaced(olds: RotationState, news: Inputs): boolean {
  if (containsUnknown(namingParts(news.target))) return true;
  if (targetKey(news.target) === targetKey(olds.target)) return false;
  const ids = [givenId(olds.target), givenId(news.target)];
  const sameUser =
    resolvesUser(news.target) &&
    news.target.type === olds.target.type &&
    olds.resourceId !== undefined &&
    ids.includes(undefined) &&
    ids.includes(olds.resourceId);
  return !sameUser;
}

function sameTrigger(olds: RotationState, trigger: unknown): boolean {
  if (olds.trigger === undefined && olds.triggerHash !== undefined) {
    return triggerFingerprint(trigger ?? null) === olds.triggerHash;
  }
  return canonicalJson(trigger ?? null) === canonicalJson(olds.trigger ?? null);
}

/** Whether a state's credential fields all equal a reading (drift of any of them counts). */
function recorded(state: Partial<RotationState>, live: IssuedCredentials): boolean {
  return CREDENTIAL_FIELDS.every(
    (key) => canonicalJson(state[key] ?? null) === canonicalJson(live[key] ?? null),
  );
}

export async function configureProvider(request: dynamic.ConfigureRequest): Promise<void> {
  rememberConfiguredCredentials(
    request.config.get("upstash:email"),
    request.config.get("upstash:apiKey"),
  );
}

export async function checkRotation(news: Inputs): Promise<dynamic.CheckResult<Inputs>> {
  const { inputs, failures } = checkInputs(news as unknown as Record<string, unknown>);
  return { inputs: inputs as unknown as Inputs, failures };
}

/** The credentials a state hands out, by target kind: absent means a run must settle them. */
function handsOut(state: RotationState): boolean {
  return state.target?.type === "qstash-signing-keys"
    ? state.currentSigningKey !== undefined
    : state.token !== undefined;
}

export async function diffRotation(olds: RotationState, news: Inputs): Promise<dynamic.DiffResult> {
  const replaces = targetReplaced(olds, news) ? ["target"] : [];
  const triggerChanged =
    containsUnknown(news.trigger) ||
    !sameTrigger(olds, news.trigger) ||
    containsUnknown(news.revokeAllOn) ||
    !sameJson(news.revokeAllOn, olds.revokeAllOn);
  const settingsChanged =
    canonicalJson(news.target) !== canonicalJson(olds.target) ||
    (news.onDelete ?? "keep") !== (olds.onDelete ?? "keep") ||
    news.email !== olds.email ||
    news.apiKey !== olds.apiKey ||
    news.verify !== olds.verify ||
    news.minRollInterval !== olds.minRollInterval ||
    // New provider code: an update stores it, so refresh and delete run it too.
    news.__provider !== olds.__provider ||
    // A rotation's outcome is not recorded yet: an update settles it.
    !handsOut(olds) ||
    olds.pendingRotation !== undefined ||
    // Credentials a refresh found changed outside Pulumi reach dependents through an update.
    olds.changedOutsideAt !== undefined ||
    // A change whose outcome is unknown is settled by an update, whatever the trigger.
    olds.unknownOutcomeAt !== undefined ||
    (olds.aclPasswords?.retired?.length ?? 0) > 0 ||
    // A password recorded by a failed run reaches consumers only through an update.
    olds.aclPasswords?.undelivered === true;
  return {
    changes: replaces.length > 0 || triggerChanged || settingsChanged,
    replaces,
    // A change of the old resource that may still land would kill what the replacement hands
    // out: the old one goes first, and its delete waits until the change can no longer land.
    // (`--replace` and `replacementTrigger` replace with no key named here, so this is unconditional.)
    deleteBeforeReplace: mayStillLandNow(olds.unknownOutcomeAt),
  };
}

/** Every state handed to the engine carries its `status`, derived from the state alone. */
function stated(state: RotationState): RotationState {
  return { ...state, status: statusOf(state) };
}

export async function createRotation(inputs: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  const created = await createAny(inputs);
  return created.outs ? { ...created, outs: stated(created.outs) } : created;
}

export async function updateRotation(
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const updated = await updateAny(olds, news);
  return updated.outs ? { ...updated, outs: stated(updated.outs) } : updated;
}

export async function readRotation(
  id: string,
  props: RotationState | undefined,
): Promise<dynamic.ReadResult<RotationState>> {
  const read = await readAny(id, props);
  return read.id && read.props ? { ...read, props: stated(read.props) } : read;
}

async function createAny(inputs: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  const settings = settingsOf(inputs);
  if (isAclTarget(settings.target)) return createAcl(settings);
  if (settings.target.type === "qstash-signing-keys") return createSigningKeys(settings);
  const client = clientFor(settings);
  if (verifies(settings)) dataPlaneBase(); // a misconfigured data plane fails before any reset
  const before = await readExistingTarget(client, settings.target, {});
  const state = await rotate(client, settings, undefined, before, false);
  return { id: resourceIdFor(state), outs: state };
}

async function updateAny(
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const settings = settingsOf(news);
  if (isAclTarget(settings.target)) return updateAcl(olds, settings);
  if (settings.target.type === "qstash-signing-keys") return updateSigningKeys(olds, settings);
  const target = settings.target;
  // A changed `revokeAllOn` revokes everything: for a reset target that is one more reset.
  const triggerChanged =
    !sameTrigger(olds, settings.trigger) ||
    revocationRequested(olds.revokeAllOn, settings.revokeAllOn);
  const unsettled = olds.pendingRotation !== undefined || olds.token === undefined;
  if (!triggerChanged && !unsettled) {
    // Passing on credentials a refresh found changed outside Pulumi is this update's whole work.
    const { changedOutsideAt: _passedOn, ...kept } = withoutSettings(olds);
    return { outs: { ...kept, ...settings } as RotationState };
  }
  const client = clientFor(settings);
  if (verifies(settings)) dataPlaneBase();
  const live = await outwaitLateLanding(
    olds.unknownOutcomeAt,
    `The reset of ${describeTarget(target)}`,
    await readExistingTarget(client, target, recordOf(olds)),
    () => readExistingTarget(client, target, recordOf(olds)),
    (reading) => !reading.concealed && !stillPrevious(olds.pendingRotation, reading),
  );
  if (live.concealed) return { outs: await rotateConcealed(client, settings, olds, live) };
  if (stillPrevious(olds.pendingRotation, live)) {
    // The pending reset never took effect: this is the rotation's one reset, not a second one.
    const previous = { ...olds, rotationCount: olds.rotationCount - 1 };
    const handedOut = olds.pendingRotation?.previousHandedOut ?? false;
    return { outs: await rotate(client, settings, previous, live, handedOut) };
  }
  // A pending reset that took effect (or 0.1.0's confirmed partial failure): record the live ones.
  const settled = compact({ ...carriedOver(olds), ...settings, ...live }) as RotationState;
  if (!triggerChanged) {
    try {
      await proveIssued(settings, live);
    } catch (error) {
      // Still rejected: keep handing out nothing, and keep what tells the next run what happened.
      throw partialFailureOf(messageOf(error) ?? "", resourceIdFor(settled), {
        ...carriedOver(settled),
        email: settled.email,
        apiKey: settled.apiKey,
        pendingRotation: olds.pendingRotation,
      });
    }
    return { outs: settled };
  }
  // Credentials this resource's outputs carried, unless they were just settled or changed outside.
  const handedOut = !unsettled && olds.token === live.token;
  return { outs: await rotate(client, settings, settled, live, handedOut) };
}

/**
 * An update of a database with Credential Protection, whose live credentials
 * cannot be read: the recorded ones stand for them, and a rotation whose new
 * credentials were never recorded cannot be settled by reading, only redone.
 */
async function rotateConcealed(
  client: UpstashClient,
  settings: Inputs,
  olds: RotationState,
  live: IssuedCredentials,
): Promise<RotationState> {
  if (olds.token === undefined) {
    // Whether the earlier reset landed cannot be read, and nobody holds what it issued.
    const lost = olds.pendingRotation
      ? "the ones of the rotation left unfinished"
      : "the live ones, which replaced those reset outside Pulumi,";
    notify(
      "warning",
      `${describeTarget(settings.target as ResetTarget)} has Credential Protection, so its credentials are shown only in a reset's answer: ${lost} cannot be read back. Resetting once more; consumers get the new credentials from this \`pulumi up\`.`,
    );
    const previous = olds.pendingRotation
      ? { ...olds, rotationCount: olds.rotationCount - 1 }
      : olds;
    return rotate(client, settings, previous, live, false);
  }
  const before: IssuedCredentials = {
    ...live,
    concealed: undefined,
    ...Object.fromEntries(CREDENTIAL_FIELDS.map((key) => [key, olds[key]])),
  };
  return rotate(client, settings, olds, compact(before) as IssuedCredentials, true);
}

/**
 * Credential Protection: whether the data plane still accepts the REST token
 * this resource handed out, the only way left to tell whether it was reset.
 */
async function stillAccepted(props: RotationState): Promise<boolean> {
  if (props.token === undefined) return false;
  const what = describeTarget(props.target as ResetTarget);
  try {
    await proveHandOut("redis", { endpoint: props.endpoint ?? "", token: props.token }, what);
    return true;
  } catch (error) {
    if (isDataPlaneError(error, "unauthorized")) return false;
    throw error;
  }
}

/**
 * Refresh of a database with Credential Protection: the Developer API shows
 * no credentials, so the recorded ones stay, unless the data plane refuses
 * them: then they are dropped (consumers get none) and the next `up` resets.
 */
async function refreshConcealed(
  id: string,
  props: RotationState,
): Promise<dynamic.ReadResult<RotationState>> {
  if (props.token === undefined || !verifies(props) || (await stillAccepted(props))) {
    return { id, props };
  }
  const what = describeTarget(props.target as ResetTarget);
  notify(
    "warning",
    `The credentials this resource handed out for ${what} no longer work (the data plane refuses its REST token): they were reset outside Pulumi. The database has Credential Protection, so the new ones cannot be read; refresh dropped the dead ones from the state. Run \`pulumi up\`: it resets once and hands out what that reset answers.`,
  );
  return {
    id,
    props: {
      ...withoutHandedOut(props),
      changedOutsideAt: new Date().toISOString(),
    } as RotationState,
  };
}

async function readAny(
  id: string,
  props: RotationState | undefined,
): Promise<dynamic.ReadResult<RotationState>> {
  if (!props?.target) return importRotation(id, props);
  if (isAclTarget(props.target)) return readAcl(id, props);
  if (props.target.type === "qstash-signing-keys") return readSigningKeys(id, props);
  const live = await readTarget(clientFor(props), props.target, recordOf(props));
  if (!live) return { id: "", props: {} as RotationState };
  if (live.concealed) return refreshConcealed(id, props);
  const { triggerHash, pendingRotation, unknownOutcomeAt, ...rest } = props;
  // A reset still owed keeps its marker, so the next `pulumi up` performs it.
  const stillOwed = stillPrevious(pendingRotation, live);
  const unchanged =
    triggerHash === undefined && pendingRotation === undefined && recorded(props, live);
  if (unchanged) return { id, props };
  // Settling a pending reset records credentials nobody has handed out yet: prove them first,
  // as the update would (a rejected one fails the refresh and leaves the state as it was).
  const changedOutside = props.token !== undefined && props.token !== live.token;
  // Credentials changed outside Pulumi are handed out by the next `up` too: proven the same way.
  if (
    (pendingRotation !== undefined && !stillOwed && props.token === undefined) ||
    changedOutside
  ) {
    await proveIssued(props, live);
  }
  if (changedOutside) {
    notify(
      "warning",
      `The credentials of ${describeTarget(props.target as ResetTarget)} were reset outside Pulumi: the ones this resource handed out no longer work. Refresh read the live ones into the state; run \`pulumi up\` to pass them on to stack outputs and dependents.`,
    );
  }
  const settings = Object.fromEntries(
    Object.entries(rest).filter(([key]) => !(CREDENTIAL_FIELDS as string[]).includes(key)),
  );
  return {
    id,
    props: compact({
      ...settings,
      ...(stillOwed ? { pendingRotation, unknownOutcomeAt } : {}),
      ...(changedOutside ? { changedOutsideAt: new Date().toISOString() } : {}),
      ...live,
    }) as RotationState,
  };
}

/**
 * `read` with no state: `CredentialRotation.get` or an import. Reads the live
 * credentials (never resets) and reports inputs that rotate nothing: trigger
 * `null`, onDelete `"keep"`.
 */
async function importRotation(
  id: string,
  props: Partial<RotationState> | undefined,
): Promise<dynamic.ReadResult<RotationState>> {
  const target = targetFromId(id);
  const inputs = { target, trigger: null, onDelete: "keep" as const };
  let state: RotationState;
  if (target.type === "qstash-signing-keys") {
    const read = await readSigningKeys(id, {
      ...inputs,
      email: props?.email,
      apiKey: props?.apiKey,
      rotatedAt: "",
      rotationCount: 0,
    });
    if (!read.id)
      throw new PortableError(`CredentialRotation cannot read "${id}": no such QStash user.`);
    const { email: _email, apiKey: _apiKey, ...kept } = read.props as RotationState;
    state = compact(kept) as RotationState;
  } else {
    const live = await readExistingTarget(clientFor(props ?? {}), target, {});
    if (live.concealed) {
      throw new PortableError(
        `CredentialRotation cannot read "${id}": the database has Credential Protection, so Upstash shows its credentials only once, when a reset issues them. Declare the resource instead; its first \`pulumi up\` resets the credentials and hands out the ones that reset answers.`,
      );
    }
    state = compact({ ...inputs, rotatedAt: "", rotationCount: 0, ...live });
  }
  return {
    id,
    props: { ...state, __provider: props?.__provider } as RotationState,
    inputs: compact({ ...inputs, __provider: props?.__provider }) as RotationState,
  };
}

export async function deleteRotation(props: RotationState): Promise<void> {
  if (props.target && isAclTarget(props.target)) return deleteAcl(props);
  // Signing keys: nothing to revoke (check allows only onDelete "keep").
  if (props.target?.type === "qstash-signing-keys") return;
  const target = props.target as ResetTarget;
  const what = describeTarget(target);
  // Created on first use: a delete that neither waits nor revokes needs no credentials.
  let client: UpstashClient | undefined;
  const read = () => readTarget((client ??= clientFor(props)), target, recordOf(props));
  const waited = await outwaitOwnReset(props, what, read);
  if ((props.onDelete ?? "keep") !== "rotate") return;
  let before: IssuedCredentials | undefined;
  try {
    // The wait's last reading is as fresh as any: the revocation starts from it.
    before = waited ? waited.live : await read();
    if (!before) return; // proven deleted: its credentials died with it
    // Already replaced (by a replacement of this resource, or a reset elsewhere): already dead.
    if (!(await stillHandedOut(props, before))) return;
    await rotateTarget((client ??= clientFor(props)), target, before);
  } catch (error) {
    const failure = await revocationFailure(error, what, before, read);
    if (failure) throw failure;
  }
}

/**
 * Before a delete: a reset of this resource whose outcome is unknown may
 * still land, so the delete waits until it is seen or no longer can (a
 * replacement's credentials must not die after this delete reported success).
 */
async function outwaitOwnReset(
  props: RotationState,
  what: string,
  read: () => Promise<IssuedCredentials | undefined>,
): Promise<{ live: IssuedCredentials | undefined } | undefined> {
  if (!mayStillLandNow(props.unknownOutcomeAt)) return undefined;
  const live = await outwaitLateLanding(
    props.unknownOutcomeAt,
    `The reset of ${what}`,
    await read(),
    read,
    (reading) =>
      reading === undefined
        ? true
        : !reading.concealed && !stillPrevious(props.pendingRotation, reading),
  );
  return { live };
}

/**
 * Whether the live credentials are the ones this resource last handed out.
 * After a partial failure its outputs carry none; the pending marker says
 * what it had handed out. Credential Protection hides them: the data plane
 * tells, or, with no token kept, nothing can and the delete refuses.
 */
async function stillHandedOut(props: RotationState, live: IssuedCredentials): Promise<boolean> {
  if (live.concealed && props.token === undefined && props.pendingRotation?.previousHandedOut) {
    throw new PortableError(
      `the database has Credential Protection and the last rotation did not finish, so whether the credentials this resource handed out before it still work cannot be told (their token was not kept). Nothing was reset: a reset now could kill a replacement's credentials. If no other resource hands out this database's credentials, reset them in the Upstash console, then run \`pulumi destroy\` again.`,
    );
  }
  if (live.concealed) return stillAccepted(props);
  if (props.token !== undefined) return live.token === props.token;
  return (
    props.pendingRotation?.previousHandedOut === true && stillPrevious(props.pendingRotation, live)
  );
}

/**
 * What a failed `onDelete: "rotate"` reports, or `undefined` when the
 * revocation took effect after all: a reset whose answer only was lost, or
 * one seen to land late within the window.
 */
async function revocationFailure(
  error: unknown,
  what: string,
  before: IssuedCredentials | undefined,
  read: () => Promise<IssuedCredentials | undefined>,
): Promise<Error | undefined> {
  // The reset took effect and only its answer is unread: the credentials are dead.
  if (isRotatedButUnread(error)) return undefined;
  if (mayStillLand(error) && before !== undefined && !before.concealed) {
    // Seen within the window, the revocation happened; unseen, it can no longer land.
    const sent = before;
    const after = await outwaitLateLanding(
      new Date().toISOString(),
      `The reset of ${what}`,
      sent,
      async () => (await read()) ?? sent,
      (live) => live.token !== sent.token,
    );
    if (after.token !== sent.token) return undefined;
    return new Error(
      `onDelete "rotate": the reset of ${what} ${
        error.name === "ResetNotObservedError"
          ? "was answered, but Upstash still reports the previous credentials"
          : `got no clear answer (${messageOf(error.cause) ?? "none"})`
      }, and it was not seen to land before it no longer could, so the credentials this resource handed out still work. Run \`pulumi destroy\` again: it resets them once.`,
    );
  }
  // A reset that may still land: a retried delete reads first and never resets twice.
  const retry = isUnrecordedRotation(error)
    ? " To finish the delete, run `pulumi destroy` (or `pulumi up`) again: it reads the live credentials and resets only if they are still the ones this resource handed out."
    : "";
  // No `cause`: only the message of our own typed errors is safe to carry along.
  return new Error(
    `onDelete "rotate": could not rotate the credentials of ${what}: ${
      messageOf(error) ?? "unknown error"
    }${retry}`,
  );
}

/*
 * The provider itself, under the names the dynamic-provider host calls: this
 * module's exports are the object `CredentialRotation` hands to Pulumi
 * (rotationProvider.ts), so an installed package stores only
 * `require(".../dist/provider/operations.js")`, about 240 bytes where a
 * forwarder of its own took 2.4 KB, twice per resource, in every checkpoint
 * write. These names join the compatibility promise above.
 */

export async function configure(request: dynamic.ConfigureRequest): Promise<void> {
  return configureProvider(request);
}

export async function check(_olds: Inputs, news: Inputs): Promise<dynamic.CheckResult<Inputs>> {
  return checkRotation(news);
}

/** A stored text of an earlier version runs the same code as this one: upgrading is no change. */
export async function diff(
  _id: string,
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.DiffResult> {
  const sameCode = sameProviderCode(olds.__provider, news.__provider);
  return diffRotation(olds, sameCode ? { ...news, __provider: olds.__provider } : news);
}

export async function create(inputs: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  return createRotation(inputs);
}

export async function update(
  _id: string,
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  return updateRotation(olds, news);
}

export async function read(
  id: string,
  props?: RotationState,
): Promise<dynamic.ReadResult<RotationState>> {
  return readRotation(id, props);
}

async function deleteResource(_id: string, props: RotationState): Promise<void> {
  return deleteRotation(props);
}
export { deleteResource as delete };

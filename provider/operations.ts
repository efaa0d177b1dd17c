/**
 * What the provider does, one exported function per operation. The provider
 * object stored in state (rotationProvider.ts) only forwards to these, so an
 * installed package stores a small text that requires this module by path:
 * `dist/provider/operations.js` and these export names are therefore a
 * compatibility promise to every state written by an earlier version
 * (tests/provider/upgrade.test.ts runs 0.1.0's stored text against them).
 */
import { createHash } from "crypto";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { apiBaseUrl } from "./apiUrl";
import { rememberConfiguredCredentials, resolveCredentials } from "./credentials";
import { UpstashClient } from "./http/client";
import { messageOf, PortableError } from "./http/errors";
import { checkInputs, type RotationInputs } from "./inputs";
import {
  describeTarget,
  isRotatedButUnread,
  isUnrecordedRotation,
  readExistingTarget,
  readTarget,
  rotateTarget,
  type IssuedCredentials,
  type RotationRecord,
  type RotationTarget,
  type UnrecordedRotationError,
} from "./targets";
import { canonicalJson, containsUnknown, triggerFingerprint } from "./trigger";

/**
 * Set while a rotation's outcome is not recorded (a partial failure): which
 * token was live before its reset, as a SHA-256 digest (the token is random
 * and long, so the digest does not reveal it, and the thrown partial failure
 * that carries it holds no credential). Comparing it with the live token tells
 * whether that reset took effect. Stored as a secret all the same.
 */
export interface PendingRotation {
  previousTokenSha256: string;
  /**
   * Whether this resource had handed that token out (an update) or not (a
   * create, or credentials changed outside it): delete with onDelete "rotate"
   * revokes only what this resource handed out.
   */
  previousHandedOut: boolean;
}

function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Whether the live token is still the one a pending rotation started from. */
function stillPrevious(pending: PendingRotation | undefined, live: IssuedCredentials): boolean {
  return pending !== undefined && tokenDigest(live.token) === pending.previousTokenSha256;
}

/** Everything the provider keeps in state: the inputs, the rotation's bookkeeping and the credentials. */
export interface RotationState extends RotationInputs, Partial<IssuedCredentials> {
  rotatedAt: string;
  rotationCount: number;
  pendingRotation?: PendingRotation;
  /** Written by 0.1.0 only (an unsalted hash of the trigger); read to compare, never written. */
  triggerHash?: string;
  __provider?: string;
}

/** The inputs as the engine passes them: the user's, plus the serialized provider. */
export type Inputs = RotationInputs & { __provider?: string };

/**
 * Output names that hold credentials; the resource lists them in
 * `additionalSecretOutputs`. Management credentials given as inputs stay in
 * state (read and delete need them), so they are listed too.
 */
export const CREDENTIAL_OUTPUTS = [
  "token",
  "readOnlyToken",
  "password",
  "redisUrl",
  "env",
  "email",
  "apiKey",
  "pendingRotation",
] as const;

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

function envNumber(name: string): number | undefined {
  const value = Number(process.env[name]);
  return process.env[name] && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A client for this call: credentials and tuning are read now, never captured at load time. */
function clientFor(inputs: { email?: string; apiKey?: string }): UpstashClient {
  return new UpstashClient({
    baseUrl: apiBaseUrl(process.env.UPSTASH_API_URL),
    credentials: resolveCredentials(inputs),
    timeoutMs: envNumber("UPSTASH_API_TIMEOUT_MS"),
    maxConcurrency: envNumber("UPSTASH_API_MAX_CONCURRENCY"),
    retry: {
      maxAttempts: envNumber("UPSTASH_API_MAX_ATTEMPTS"),
      maxTotalMs: envNumber("UPSTASH_API_MAX_TOTAL_MS"),
      baseDelayMs: envNumber("UPSTASH_API_RETRY_BASE_MS"),
    },
  });
}

/** Drops undefined members: the engine's Struct cannot hold them. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function settingsOf(inputs: Inputs): Inputs {
  return compact({
    target: inputs.target,
    trigger: inputs.trigger ?? null,
    onDelete: inputs.onDelete ?? "keep",
    email: inputs.email,
    apiKey: inputs.apiKey,
    __provider: inputs.__provider,
  });
}

/**
 * What an earlier state contributes to the next one: its bookkeeping and what
 * identifies the target, but neither its credentials, its settings, an open
 * `pendingRotation` nor 0.1.0's trigger hash.
 */
function carriedOver(previous: Partial<RotationState>): Partial<RotationState> {
  const dropped = new Set<string>([
    ...CREDENTIAL_FIELDS.filter((key) => key !== "resourceId" && key !== "qstashApi"),
    "email",
    "apiKey",
    "pendingRotation",
    "triggerHash",
  ]);
  return Object.fromEntries(Object.entries(previous).filter(([key]) => !dropped.has(key)));
}

function recordOf(state: Partial<RotationState>): RotationRecord {
  return { resourceId: state.resourceId, qstashApi: state.qstashApi };
}

function givenId(target: RotationTarget): string | undefined {
  const id =
    target.type === "redis"
      ? target.databaseId
      : target.type === "qstash"
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
  if (id.includes("/") && rest.trim() !== "") {
    if (type === "redis") return { type, databaseId: rest };
    if (type === "vector" || type === "search") return { type, indexId: rest };
    if (type === "qstash") return rest === "account" ? { type } : { type, qstashUserId: rest };
  }
  throw new PortableError(
    `CredentialRotation cannot read "${id}": ids look like redis/<databaseId>, vector/<indexId>, search/<indexId>, qstash/<qstashUserId> or qstash/account.`,
  );
}

/** The engine's marker for a secret value inside a provider's answer. */
function secretValue(value: unknown): unknown {
  return value === undefined
    ? undefined
    : { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

/**
 * The rotation's outcome could not be recorded: record the resource without
 * credentials (a partial failure, so the engine keeps it) and with the token
 * that was live before, so refresh or the next update can tell whether the
 * reset took effect. Refresh needs management credentials given as inputs,
 * so they go along as engine secrets, in a non-enumerable property that
 * logging and inspection do not print.
 */
function partialFailure(
  error: UnrecordedRotationError,
  state: Partial<RotationState>,
  previousToken: string,
  previousHandedOut: boolean,
): Error {
  const properties = compact({
    ...carriedOver(state),
    email: secretValue(state.email),
    apiKey: secretValue(state.apiKey),
    pendingRotation: secretValue({
      previousTokenSha256: tokenDigest(previousToken),
      previousHandedOut,
    } satisfies PendingRotation),
  });
  const failure = Object.assign(new Error(error.message), {
    id: resourceIdFor(state as RotationState),
    reasons: [error.message],
  });
  return Object.defineProperty(failure, "properties", { value: properties, enumerable: false });
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
    const issued = await rotateTarget(client, settings.target, before);
    return compact({ ...state, ...issued });
  } catch (error) {
    if (isUnrecordedRotation(error)) {
      throw partialFailure(error, state, before.token, handedOut);
    }
    throw error;
  }
}

/** Same target, whatever the whitespace around its id. */
function targetKey(target: RotationTarget): string {
  return `${target.type}/${givenId(target) ?? ""}`;
}

/**
 * Whether `news.target` addresses something else than the resource does. A
 * QStash target that now names the user it was resolved to is the same user.
 */
function targetReplaced(olds: RotationState, news: Inputs): boolean {
  if (containsUnknown(news.target)) return true;
  if (targetKey(news.target) === targetKey(olds.target)) return false;
  const namesResolvedUser =
    news.target.type === "qstash" &&
    olds.target.type === "qstash" &&
    givenId(olds.target) === undefined &&
    givenId(news.target) === olds.resourceId;
  return !namesResolvedUser;
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

export async function diffRotation(olds: RotationState, news: Inputs): Promise<dynamic.DiffResult> {
  const replaces = targetReplaced(olds, news) ? ["target"] : [];
  const triggerChanged = containsUnknown(news.trigger) || !sameTrigger(olds, news.trigger);
  const settingsChanged =
    canonicalJson(news.target) !== canonicalJson(olds.target) ||
    (news.onDelete ?? "keep") !== (olds.onDelete ?? "keep") ||
    news.email !== olds.email ||
    news.apiKey !== olds.apiKey ||
    // New provider code: an update stores it, so refresh and delete run it too.
    news.__provider !== olds.__provider ||
    // A rotation's outcome is not recorded yet: an update settles it.
    olds.token === undefined ||
    olds.pendingRotation !== undefined;
  return {
    changes: replaces.length > 0 || triggerChanged || settingsChanged,
    replaces,
    deleteBeforeReplace: false,
  };
}

export async function createRotation(inputs: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  const settings = settingsOf(inputs);
  const client = clientFor(settings);
  const before = await readExistingTarget(client, settings.target, {});
  const state = await rotate(client, settings, undefined, before, false);
  return { id: resourceIdFor(state), outs: state };
}

export async function updateRotation(
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const settings = settingsOf(news);
  const triggerChanged = !sameTrigger(olds, settings.trigger);
  const unsettled = olds.pendingRotation !== undefined || olds.token === undefined;
  if (!triggerChanged && !unsettled) {
    const { email: _email, apiKey: _apiKey, triggerHash: _hash, ...kept } = olds;
    return { outs: { ...kept, ...settings } };
  }
  const client = clientFor(settings);
  const live = await readExistingTarget(client, settings.target, recordOf(olds));
  if (stillPrevious(olds.pendingRotation, live)) {
    // The pending reset never took effect: this is the rotation's one reset, not a second one.
    const previous = { ...olds, rotationCount: olds.rotationCount - 1 };
    const handedOut = olds.pendingRotation?.previousHandedOut ?? false;
    return { outs: await rotate(client, settings, previous, live, handedOut) };
  }
  // A pending reset that took effect (or 0.1.0's confirmed partial failure): record the live ones.
  const settled = compact({ ...carriedOver(olds), ...settings, ...live }) as RotationState;
  if (!triggerChanged) return { outs: settled };
  // Credentials this resource's outputs carried, unless they were just settled or changed outside.
  const handedOut = !unsettled && olds.token === live.token;
  return { outs: await rotate(client, settings, settled, live, handedOut) };
}

export async function readRotation(
  id: string,
  props: RotationState | undefined,
): Promise<dynamic.ReadResult<RotationState>> {
  if (!props?.target) return importRotation(id, props);
  const live = await readTarget(clientFor(props), props.target, recordOf(props));
  if (!live) return { id: "", props: {} as RotationState };
  const { triggerHash, pendingRotation, ...rest } = props;
  // A reset still owed keeps its marker, so the next `pulumi up` performs it.
  const stillOwed = stillPrevious(pendingRotation, live);
  const unchanged =
    triggerHash === undefined && pendingRotation === undefined && recorded(props, live);
  if (unchanged) return { id, props };
  const settings = Object.fromEntries(
    Object.entries(rest).filter(([key]) => !(CREDENTIAL_FIELDS as string[]).includes(key)),
  );
  return {
    id,
    props: compact({
      ...settings,
      ...(stillOwed ? { pendingRotation } : {}),
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
  const live = await readExistingTarget(clientFor(props ?? {}), target, {});
  const state: RotationState = compact({ ...inputs, rotatedAt: "", rotationCount: 0, ...live });
  return {
    id,
    props: { ...state, __provider: props?.__provider } as RotationState,
    inputs: compact({ ...inputs, __provider: props?.__provider }) as RotationState,
  };
}

export async function deleteRotation(props: RotationState): Promise<void> {
  if ((props.onDelete ?? "keep") !== "rotate") return;
  try {
    const client = clientFor(props);
    const live = await readTarget(client, props.target, recordOf(props));
    if (!live) return; // proven deleted: its credentials died with it
    // Whether the live credentials are the ones this resource last handed out. After a
    // partial failure its outputs carry none; the pending marker says what it had handed out.
    const handedOut =
      props.token !== undefined
        ? live.token === props.token
        : props.pendingRotation?.previousHandedOut === true &&
          stillPrevious(props.pendingRotation, live);
    // Already replaced (by a replacement of this resource, or a reset elsewhere): already dead.
    if (!handedOut) return;
    await rotateTarget(client, props.target, live);
  } catch (error) {
    // The reset took effect and only its answer is unread: the credentials are dead.
    if (isRotatedButUnread(error)) return;
    // No `cause`: only the message of our own typed errors is safe to carry along.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `onDelete "rotate": could not rotate the credentials of ${describeTarget(props.target)}: ${
        messageOf(error) ?? "unknown error"
      }`,
    );
  }
}

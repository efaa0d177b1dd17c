/**
 * What the provider does, one exported function per operation. The provider
 * object stored in state (rotationProvider.ts) only forwards to these, so an
 * installed package stores a small text that requires this module by path:
 * `dist/provider/operations.js` and these export names are therefore a
 * compatibility promise to every state written by an earlier version.
 */
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { rememberConfiguredCredentials, resolveCredentials } from "./credentials";
import { DEFAULT_API_URL, UpstashClient } from "./http/client";
import { hasUpstashCode, messageOf } from "./http/errors";
import { checkInputs, type RotationInputs } from "./inputs";
import {
  describeTarget,
  readTarget,
  isRotatedButUnread,
  type RotatedButUnreadError,
  rotateTarget,
  type IssuedCredentials,
  type RotationRecord,
} from "./targets";
import { canonicalJson, containsUnknown, triggerFingerprint } from "./trigger";

/** Everything the provider keeps in state: the inputs, the trigger's fingerprint and the credentials. */
export interface RotationState extends RotationInputs, Partial<IssuedCredentials> {
  triggerHash: string;
  rotatedAt: string;
  rotationCount: number;
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
] as const;

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
    baseUrl: process.env.UPSTASH_API_URL || DEFAULT_API_URL,
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

function settingsOf(inputs: Inputs): RotationInputs & { __provider?: string } {
  return compact({
    target: inputs.target,
    trigger: inputs.trigger ?? null,
    onDelete: inputs.onDelete ?? "keep",
    email: inputs.email,
    apiKey: inputs.apiKey,
    __provider: inputs.__provider,
  });
}

/** State without the credentials, keeping what identifies the target. */
function withoutCredentials(state: RotationState): RotationState {
  const kept = (key: string): boolean =>
    key === "resourceId" || key === "qstashApi" || !(CREDENTIAL_FIELDS as string[]).includes(key);
  return Object.fromEntries(
    Object.entries(state).filter(([key]) => kept(key)),
  ) as unknown as RotationState;
}

/** What an earlier state contributes to the next one: neither its credentials nor its settings. */
function carriedOver(previous: RotationState): Partial<RotationState> {
  const { email: _email, apiKey: _apiKey, ...rest } = withoutCredentials(previous);
  return rest;
}

function recordOf(state: Partial<RotationState>): RotationRecord {
  return { resourceId: state.resourceId, qstashApi: state.qstashApi };
}

function resourceIdFor(state: Pick<RotationState, "target" | "resourceId">): string {
  const { target } = state;
  const given =
    target.type === "redis"
      ? target.databaseId
      : target.type === "qstash"
        ? target.qstashUserId
        : target.indexId;
  return `${target.type}/${state.resourceId || given || "account"}`;
}

/** The engine's marker for a secret value inside a provider's answer. */
function secretValue(value: string | undefined): unknown {
  return value === undefined
    ? undefined
    : { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

/**
 * The reset happened but the new credentials are unknown: record the resource
 * without credentials (a partial failure, so the engine keeps it) and let
 * `pulumi refresh` or the next update read them. Refresh needs management
 * credentials given as inputs, so they go along as engine secrets, in a
 * non-enumerable property that logging and inspection do not print.
 */
function partialFailure(error: RotatedButUnreadError, state: RotationState): Error {
  const properties = compact({
    ...carriedOver(state),
    email: secretValue(state.email),
    apiKey: secretValue(state.apiKey),
  });
  const failure = Object.assign(new Error(error.message), {
    id: resourceIdFor(state),
    reasons: [error.message],
  });
  return Object.defineProperty(failure, "properties", { value: properties, enumerable: false });
}

async function rotate(
  settings: Inputs,
  previous: RotationState | undefined,
): Promise<RotationState> {
  const client = clientFor(settings);
  const base: RotationState = {
    ...(previous ? carriedOver(previous) : {}),
    ...settings,
    triggerHash: triggerFingerprint(settings.trigger),
    rotatedAt: new Date().toISOString(),
    rotationCount: (previous?.rotationCount ?? 0) + 1,
  };
  try {
    const issued = await rotateTarget(client, settings.target, recordOf(previous ?? {}));
    return compact({ ...base, ...issued });
  } catch (error) {
    if (isRotatedButUnread(error)) throw partialFailure(error, base);
    throw error;
  }
}

function sameCredentials(a: Partial<IssuedCredentials>, b: IssuedCredentials): boolean {
  return (
    a.token === b.token &&
    a.readOnlyToken === b.readOnlyToken &&
    a.password === b.password &&
    a.resourceId === b.resourceId
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
  const replaces =
    containsUnknown(news.target) || canonicalJson(news.target) !== canonicalJson(olds.target)
      ? ["target"]
      : [];
  const triggerChanged =
    containsUnknown(news.trigger) || triggerFingerprint(news.trigger ?? null) !== olds.triggerHash;
  const settingsChanged =
    (news.onDelete ?? "keep") !== (olds.onDelete ?? "keep") ||
    news.email !== olds.email ||
    news.apiKey !== olds.apiKey ||
    // New provider code: an update stores it, so refresh and delete run it too.
    news.__provider !== olds.__provider ||
    // A partial failure left no credentials in state: an update reads them back.
    olds.token === undefined;
  return {
    changes: replaces.length > 0 || triggerChanged || settingsChanged,
    replaces,
    deleteBeforeReplace: false,
  };
}

export async function createRotation(inputs: Inputs): Promise<dynamic.CreateResult<RotationState>> {
  const state = await rotate(settingsOf(inputs), undefined);
  return { id: resourceIdFor(state), outs: state };
}

export async function updateRotation(
  olds: RotationState,
  news: Inputs,
): Promise<dynamic.UpdateResult<RotationState>> {
  const settings = settingsOf(news);
  if (triggerFingerprint(settings.trigger) === olds.triggerHash) {
    const { email: _email, apiKey: _apiKey, ...kept } = olds;
    const outs: RotationState = { ...kept, ...settings };
    if (olds.token !== undefined) return { outs };
    // An earlier reset's answer was lost (partial failure): read the live credentials, never reset again.
    const issued = await readTarget(clientFor(settings), settings.target, recordOf(olds));
    return { outs: issued ? compact({ ...outs, ...issued }) : outs };
  }
  return { outs: await rotate(settings, olds) };
}

export async function readRotation(
  id: string,
  props: RotationState | undefined,
): Promise<dynamic.ReadResult<RotationState>> {
  if (!props) return { id, props };
  const issued = await readTarget(clientFor(props), props.target, recordOf(props));
  if (!issued) return { id: "", props: {} as RotationState };
  if (sameCredentials(props, issued)) return { id, props };
  return { id, props: compact({ ...withoutCredentials(props), ...issued }) };
}

export async function deleteRotation(props: RotationState): Promise<void> {
  if ((props.onDelete ?? "keep") !== "rotate") return;
  try {
    await rotateTarget(clientFor(props), props.target, recordOf(props));
  } catch (error) {
    // Gone, or rotated without a readable answer: either way the last credentials are dead.
    if (hasUpstashCode(error, "not_found") || isRotatedButUnread(error)) return;
    // No `cause`: only the message of our own typed errors is safe to carry along.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(
      `onDelete "rotate": could not rotate the credentials of ${describeTarget(props.target)}: ${
        messageOf(error) ?? "unknown error"
      }`,
    );
  }
}

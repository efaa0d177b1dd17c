/**
 * What every operation shares, whatever the target: the state's shape, the
 * Developer API client for one call, and how a partial failure is reported.
 */
import { apiBaseUrl } from "./apiUrl";
import { resolveCredentials } from "./credentials";
import { UpstashClient } from "./http/client";
import type { RotationInputs } from "./inputs";
import type { IssuedCredentials } from "./targets";
import { statusOf } from "./status";
import { canonicalJson } from "./trigger";

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

/**
 * An ACL user's passwords this resource issued, as SHA-256 (hex) digests:
 * `current` (handed out while `token` is set), `previous` (handed out by the
 * rotation before, still valid) and `retired` (to be removed; normally empty).
 * Stored as a secret; the plaintext of `previous` is never kept.
 */
export interface AclPasswords {
  current?: string;
  previous?: string;
  retired?: string[];
  /**
   * `current` was recorded by a run that failed after issuing it: no stack
   * output or dependent has it yet, so `previous` is what consumers hold.
   * Cleared by the next successful update, which delivers it.
   */
  undelivered?: boolean;
}

/** Everything the provider keeps in state: the inputs, the rotation's bookkeeping and the credentials. */
export interface RotationState extends RotationInputs, Partial<IssuedCredentials> {
  rotatedAt: string;
  rotationCount: number;
  pendingRotation?: PendingRotation;
  /**
   * When a run last sent a reset, password change or key roll whose outcome
   * stayed unknown. Until it can no longer land, nothing is sent again
   * (`outwaitLateLanding`); cleared once the outcome is settled.
   */
  unknownOutcomeAt?: string;
  /**
   * When a refresh found the credentials changed (or killed) outside Pulumi;
   * cleared by the next update, which passes the live ones on.
   */
  changedOutsideAt?: string;
  /** QStash signing keys: since when a trigger change waits for its roll. */
  pendingRollSince?: string;
  /** One sentence on where the credentials stand and what the next `up` does ({@link statusOf}). */
  status?: string;
  /** Written by 0.1.0 only (an unsalted hash of the trigger); read to compare, never written. */
  triggerHash?: string;
  /** Redis ACL mode: the user whose passwords this resource issues. */
  user?: string;
  /**
   * Redis ACL mode: this resource created the user (it did not exist), so
   * `onDelete: "rotate"` may delete it; a user it found keeps existing.
   */
  userCreated?: boolean;
  /** Redis ACL mode: see {@link AclPasswords}. */
  aclPasswords?: AclPasswords;
  /** QStash signing keys. */
  currentSigningKey?: string;
  nextSigningKey?: string;
  /**
   * QStash signing keys: when a roll this resource did not make was last seen
   * (keys adopted on create, or found changed by refresh). The roll guard counts
   * it like its own rolls, since receivers may not have those keys yet.
   */
  rollObservedAt?: string;
  __provider?: string;
}

/** The inputs as the engine passes them: the user's, plus the serialized provider. */
export type Inputs = RotationInputs & { __provider?: string };

/** The module every provider text stored by an installed package requires, by this name. */
const OPERATIONS_MODULE = "pulumi-upstash-credential-rotation/dist/provider/operations.js";

/**
 * Whether two stored provider texts run the same code. A text stored by an
 * installed package requires its operations module and nothing else (0.1.0's
 * with a forwarding method per operation, later ones the module itself), so
 * any two such texts run whatever version is installed: upgrading from one to
 * the other is no change. Any other difference is new code, which an update
 * stores so that refresh and delete run it too.
 */
export function sameProviderCode(a: unknown, b: unknown): boolean {
  return a === b || (requiresOnlyOperations(a) && requiresOnlyOperations(b));
}

function requiresOnlyOperations(text: unknown): boolean {
  if (typeof text !== "string") return false;
  const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
  return required.length > 0 && required.every((name) => name === OPERATIONS_MODULE);
}

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
  "aclPasswords",
  "currentSigningKey",
  "nextSigningKey",
] as const;

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/**
 * Whether `revokeAllOn` asks for a revocation: it was set to a new value.
 * Removing it (e.g. `pulumi config rm` after an incident) asks for nothing.
 */
export function revocationRequested(old: unknown, current: unknown): boolean {
  return current !== undefined && current !== null && !sameJson(old, current);
}

function envNumber(name: string): number | undefined {
  const value = Number(process.env[name]);
  return process.env[name] && Number.isFinite(value) && value > 0 ? value : undefined;
}

/** A client for this call: credentials and tuning are read now, never captured at load time. */
export function clientFor(inputs: { email?: string; apiKey?: string }): UpstashClient {
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
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The user's settings from the inputs, with the defaults the state has always held. */
export function settingsOf(inputs: Inputs): Inputs {
  return compact({
    target: inputs.target,
    trigger: inputs.trigger ?? null,
    onDelete: inputs.onDelete ?? "keep",
    email: inputs.email,
    apiKey: inputs.apiKey,
    verify: inputs.verify,
    revokeAllOn: inputs.revokeAllOn,
    minRollInterval: inputs.minRollInterval,
    __provider: inputs.__provider,
  });
}

/** Settings a state may hold that the next settings replace, even by leaving them out. */
const OPTIONAL_SETTINGS = [
  "email",
  "apiKey",
  "verify",
  "revokeAllOn",
  "minRollInterval",
  "triggerHash",
];

/**
 * A state without its optional settings (and 0.1.0's trigger hash), to be
 * completed with the new settings: a setting the program no longer sets must
 * not survive from the old state.
 */
export function withoutSettings<T extends object>(state: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(state).filter(([key]) => !OPTIONAL_SETTINGS.includes(key)),
  ) as Partial<T>;
}

/** The credential values a state hands out to consumers, whatever the target or mode. */
const HANDED_OUT = [
  "token",
  "readOnlyToken",
  "password",
  "redisUrl",
  "env",
  "currentSigningKey",
  "nextSigningKey",
];

/** A state without the credentials it hands out: consumers get none from it. */
export function withoutHandedOut<T extends object>(state: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(state).filter(([key]) => !HANDED_OUT.includes(key)),
  ) as Partial<T>;
}

/** Whether new credentials are proven against the data plane (`verify`, default true). */
export const verifies = (settings: { verify?: boolean }): boolean => settings.verify !== false;

/** The key and value that mark an object as the engine's envelope around a secret. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** The engine's marker for a secret value inside a provider's answer. */
export function secretValue(value: unknown): unknown {
  return value === undefined ? undefined : { [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

/** Whether a value the engine sent is a secret's envelope (its `value` is the secret). */
export function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE
  );
}

/**
 * A partial failure: the engine records the resource with `properties` and
 * reports `message`. The properties ride in a non-enumerable field that
 * logging and inspection do not print; every field named in
 * {@link CREDENTIAL_OUTPUTS} goes as an engine secret.
 */
export function partialFailure(
  message: string,
  id: string,
  properties: Record<string, unknown>,
): Error {
  // The status says what the next run does, since the message goes only to this run's log.
  const recorded: Record<string, unknown> = { ...properties, status: statusOf(properties) };
  for (const key of CREDENTIAL_OUTPUTS) recorded[key] = secretValue(properties[key]);
  const failure = Object.assign(new Error(message), { id, reasons: [message] });
  return Object.defineProperty(failure, "properties", {
    value: withoutUndefined(recorded),
    enumerable: false,
    // The plugin's front door conceals it further (secret inputs) before the engine sees it.
    configurable: true,
  });
}

/**
 * The host sends a partial failure's properties as a protobuf Struct, which
 * refuses `undefined` at any depth (the create then never answers), so every
 * one is dropped, however deep.
 */
export function withoutUndefined(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((item) => item !== undefined).map(withoutUndefined);
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, member]) => member !== undefined)
        .map(([key, member]) => [key, withoutUndefined(member)]),
    );
  }
  return value;
}

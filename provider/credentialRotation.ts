import * as pulumi from "@pulumi/pulumi";
import type { OnDelete } from "./inputs";
import { CREDENTIAL_OUTPUTS, credentialRotationProvider } from "./rotationProvider";
import type { QStashApiVersion, RotationTarget } from "./targets";
import type { TriggerValue } from "./trigger";

/** The arguments of a {@link CredentialRotation}. */
export interface CredentialRotationArgs {
  /**
   * What to rotate: `{ type: "redis", databaseId }`, `{ type: "vector", indexId }`,
   * `{ type: "search", indexId }` or `{ type: "qstash", qstashUserId? }` (resets:
   * the old credentials die at once); `{ type: "redis", databaseId, user, rules? }`
   * (an ACL user's passwords, rotated with overlap) or
   * `{ type: "qstash-signing-keys", qstashUserId? }` (adopted on create, rolled once per trigger change).
   * Pointing it at another database, index or user replaces the resource (the
   * new target is rotated on create). Whitespace around an id, or naming the
   * QStash user that `{ type: "qstash" }` resolved to, is an update that resets nothing.
   */
  target: pulumi.Input<RotationTarget>;
  /**
   * Any JSON value. The credentials are rotated on create and again whenever
   * this value changes (compared as canonical JSON, so key order does not
   * count), as an in-place update. Use {@link rotationWindow} for a calendar,
   * or any other value, e.g. `@pulumiverse/time`'s `Rotating`. Defaults to `null`.
   */
  trigger?: pulumi.Input<TriggerValue>;
  /**
   * `"keep"` (default) leaves the credentials working when the resource is
   * deleted. `"rotate"` makes sure the credentials this resource last handed
   * out stop working: it reads the live ones and resets them once more only if
   * they are still those (when a replacement of this resource already rotated
   * the same target, its new credentials are left alone). A delete that cannot
   * establish this fails instead of reporting success. ACL user: deletes the
   * user (`ACL DELUSER`), or, when it holds passwords this resource never
   * issued (a replacement's), removes only this resource's. Signing keys:
   * only `"keep"` (nothing to revoke).
   */
  onDelete?: pulumi.Input<OnDelete>;
  /**
   * Prove every new credential against the target's data plane with the
   * credential itself before handing it out (default `true`): Redis `PING`,
   * Vector/Search `GET /info`, QStash `GET /v2/keys`. An ACL password that
   * fails is removed again (nothing changes); a reset that fails is a partial
   * failure that hands nothing out. `false` skips the proof (e.g. a runner
   * without egress to the data plane); ACL users and signing keys still need it.
   */
  verify?: pulumi.Input<boolean>;
  /**
   * Incident response: when this value changes (any JSON, compared like
   * `trigger`; unset is `null`), every credential of the target dies in this
   * one `pulumi up`. ACL user: one `ACL SETUSER <user> resetpass >NEW` removes
   * every password of the user, whoever issued it, and adds a fresh one. Reset
   * targets: one more reset. Not available for `qstash-signing-keys`.
   */
  revokeAllOn?: pulumi.Input<TriggerValue>;
  /**
   * `qstash-signing-keys` only: a roll sooner than this after the previous roll
   * by this resource fails, since two rolls before receivers have the new keys
   * break every receiver. rotationWindow's units (`min`, `h`, `d`, `w`, `mo`);
   * default `"24h"`, at most a year (`"366d"`, `"52w"`, `"12mo"`); `"0min"`
   * turns the guard off (for one forced roll).
   */
  minRollInterval?: pulumi.Input<string>;
  /**
   * The Upstash account email for the Developer API. Takes precedence over
   * stack config `upstash:email` (dynamic provider only; the plugin reads no
   * provider config) and env `UPSTASH_EMAIL`; set it together with `apiKey`.
   */
  email?: pulumi.Input<string>;
  /**
   * The Developer API key. Takes precedence over stack config `upstash:apiKey`
   * (dynamic provider only) and env `UPSTASH_API_KEY`; stored as a secret.
   */
  apiKey?: pulumi.Input<string>;
}

/**
 * Rotates the credentials of an Upstash Redis database, Vector index, Search
 * index or QStash user, and exposes the new ones as secret outputs.
 *
 * A reset (database, index or QStash token) kills the old credentials the
 * moment it happens, so every consumer must pick up the new outputs. A Redis
 * ACL user (`target.user`) rotates with overlap: the previous password stays
 * valid until the next rotation. Every new credential is proven against the
 * data plane before it is handed out (`verify`).
 *
 * @example
 * ```ts
 * const cache = new CredentialRotation("cache", {
 *   target: { type: "redis", databaseId: "96ad0856-03b1-4ee7-9666-e81abd0349e1" },
 *   trigger: rotationWindow("30d"),
 * });
 * export const redisUrl = cache.redisUrl; // secret
 * ```
 */
export class CredentialRotation extends pulumi.dynamic.Resource {
  /** The target as given. */
  declare public readonly target: pulumi.Output<RotationTarget>;
  /** The current trigger value. */
  declare public readonly trigger: pulumi.Output<TriggerValue>;
  /** What happens to the credentials on delete. */
  declare public readonly onDelete: pulumi.Output<OnDelete>;
  /** The database, index or QStash user id that was rotated (resolved for QStash). */
  declare public readonly resourceId: pulumi.Output<string>;
  /** REST token (QStash: the QStash token). Secret. Absent for signing keys, and while a rotation is unsettled. */
  declare public readonly token: pulumi.Output<string | undefined>;
  /** Read-only REST token, where the target has one. Secret. */
  declare public readonly readOnlyToken: pulumi.Output<string | undefined>;
  /** Base URL of the target's REST API: `https://` and a full host name. Absent while a reset is unsettled. */
  declare public readonly restUrl: pulumi.Output<string | undefined>;
  /** Full host name of the target. Absent while a reset is unsettled. */
  declare public readonly endpoint: pulumi.Output<string | undefined>;
  /** Redis only: the database password. Secret. */
  declare public readonly password: pulumi.Output<string | undefined>;
  /** Redis only: the TLS port. */
  declare public readonly port: pulumi.Output<number | undefined>;
  /** Redis only: `rediss://default:PASSWORD@HOST:PORT` (ACL mode: `rediss://USER:TOKEN@HOST:PORT`). Secret. */
  declare public readonly redisUrl: pulumi.Output<string | undefined>;
  /** Redis ACL mode: the ACL user the credentials belong to. */
  declare public readonly user: pulumi.Output<string | undefined>;
  /** QStash signing keys: the key QStash signs with now. Secret. */
  declare public readonly currentSigningKey: pulumi.Output<string | undefined>;
  /** QStash signing keys: the key QStash signs with after the next roll. Secret. */
  declare public readonly nextSigningKey: pulumi.Output<string | undefined>;
  /**
   * The environment variables Upstash's SDKs read (`UPSTASH_REDIS_REST_URL`/`_TOKEN`,
   * `UPSTASH_VECTOR_REST_URL`/`_TOKEN`, `UPSTASH_SEARCH_REST_URL`/`_TOKEN`,
   * `QSTASH_URL`/`QSTASH_TOKEN`; signing keys: `QSTASH_CURRENT_SIGNING_KEY`/`QSTASH_NEXT_SIGNING_KEY`). Secret.
   * Absent while a rotation is unsettled (a run that failed part-way hands nothing out).
   */
  declare public readonly env: pulumi.Output<Record<string, string> | undefined>;
  /** QStash only: `"v2"` or `"legacy"` (the account-level API). */
  declare public readonly qstashApi: pulumi.Output<QStashApiVersion | undefined>;
  /**
   * When this resource last rotated the credentials (ISO 8601). Signing keys:
   * its last roll, `""` until the first (`status` gives the time the keys were
   * adopted).
   */
  declare public readonly rotatedAt: pulumi.Output<string>;
  /** How many rotations this resource has made. */
  declare public readonly rotationCount: pulumi.Output<number>;
  /**
   * One sentence on where the credentials stand and what the next `pulumi up`
   * does about it: current, changed or removed outside Pulumi, a rotation left
   * unfinished, a change that may still land, a signing-key roll pending.
   * `pulumi refresh --diff` and `pulumi preview --diff` show it when it changes.
   */
  declare public readonly status: pulumi.Output<string | undefined>;

  /**
   * The current credentials of an existing target, read without resetting them.
   * `id` is `redis/<databaseId>`, `vector/<indexId>`, `search/<indexId>`,
   * `qstash/<qstashUserId>` or `qstash/account`.
   */
  public static get(
    name: string,
    id: pulumi.Input<pulumi.ID>,
    opts?: pulumi.CustomResourceOptions,
  ): CredentialRotation {
    return new CredentialRotation(name, {} as CredentialRotationArgs, { ...opts, id });
  }

  constructor(name: string, args: CredentialRotationArgs, opts?: pulumi.CustomResourceOptions) {
    // The SDK makes four promises per property and records a stack trace for each (read only
    // with PULUMI_DEBUG_PROMISE_LEAKS); under ts-node every trace is source-mapped, which was
    // most of a program's own time (0.3 s for 50 resources). `super` runs synchronously, so the
    // limit is 0 only for it. The resource's own trace and source position are unaffected:
    // the SDK takes them with a limit of its own.
    const limit = Error.stackTraceLimit;
    if (!process.env.PULUMI_DEBUG_PROMISE_LEAKS) Error.stackTraceLimit = 0;
    try {
      super(
        credentialRotationProvider,
        name,
        propertiesOf(args),
        {
          ...opts,
          additionalSecretOutputs: [
            ...(opts?.additionalSecretOutputs ?? []),
            ...CREDENTIAL_OUTPUTS,
          ],
        },
        "upstash",
        "CredentialRotation",
      );
    } catch (error) {
      // Thrown while the limit was 0: give it the frames that lead to the program's line.
      if (error instanceof Error) {
        Error.stackTraceLimit = limit;
        Error.captureStackTrace(error, CredentialRotation);
      }
      throw error;
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

/** The inputs as the provider takes them, and every output the resource declares. */
function propertiesOf(args: CredentialRotationArgs): pulumi.Inputs {
  return {
    target: args.target,
    trigger: args.trigger ?? null,
    onDelete: args.onDelete ?? "keep",
    // Unset inputs are left out (they are not sent either): each property costs four promises.
    ...definedOnly({
      email: args.email === undefined ? undefined : pulumi.secret(args.email),
      apiKey: args.apiKey === undefined ? undefined : pulumi.secret(args.apiKey),
      verify: args.verify,
      revokeAllOn: args.revokeAllOn,
      minRollInterval: args.minRollInterval,
    }),
    // Every output, declared so that the engine fills it in.
    resourceId: undefined,
    token: undefined,
    readOnlyToken: undefined,
    restUrl: undefined,
    endpoint: undefined,
    password: undefined,
    port: undefined,
    redisUrl: undefined,
    user: undefined,
    currentSigningKey: undefined,
    nextSigningKey: undefined,
    env: undefined,
    qstashApi: undefined,
    rotatedAt: undefined,
    rotationCount: undefined,
    status: undefined,
  };
}

/** The members that are not `undefined`. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

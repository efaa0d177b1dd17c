import * as pulumi from "@pulumi/pulumi";
import type { OnDelete } from "./inputs";
import { CREDENTIAL_OUTPUTS, credentialRotationProvider } from "./rotationProvider";
import type { QStashApiVersion, RotationTarget } from "./targets";
import type { TriggerValue } from "./trigger";

/** The arguments of a {@link CredentialRotation}. */
export interface CredentialRotationArgs {
  /**
   * What to rotate: `{ type: "redis", databaseId }`, `{ type: "vector", indexId }`,
   * `{ type: "search", indexId }` or `{ type: "qstash", qstashUserId? }`.
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
   * establish this fails instead of reporting success.
   */
  onDelete?: pulumi.Input<OnDelete>;
  /**
   * The Upstash account email for the Developer API. Takes precedence over
   * stack config `upstash:email` and env `UPSTASH_EMAIL`; set it together with `apiKey`.
   */
  email?: pulumi.Input<string>;
  /**
   * The Developer API key. Takes precedence over stack config `upstash:apiKey`
   * and env `UPSTASH_API_KEY`; stored as a secret.
   */
  apiKey?: pulumi.Input<string>;
}

/**
 * Rotates the credentials of an Upstash Redis database, Vector index, Search
 * index or QStash user, and exposes the new ones as secret outputs.
 *
 * The old credentials stop working the moment the reset happens: there is no
 * grace period, so every consumer must pick up the new outputs.
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
  /** REST token (QStash: the QStash token). Secret. */
  declare public readonly token: pulumi.Output<string>;
  /** Read-only REST token, where the target has one. Secret. */
  declare public readonly readOnlyToken: pulumi.Output<string | undefined>;
  /** Base URL of the target's REST API: `https://` and a full host name. */
  declare public readonly restUrl: pulumi.Output<string>;
  /** Full host name of the target. */
  declare public readonly endpoint: pulumi.Output<string>;
  /** Redis only: the database password. Secret. */
  declare public readonly password: pulumi.Output<string | undefined>;
  /** Redis only: the TLS port. */
  declare public readonly port: pulumi.Output<number | undefined>;
  /** Redis only: `rediss://default:PASSWORD@HOST:PORT`. Secret. */
  declare public readonly redisUrl: pulumi.Output<string | undefined>;
  /**
   * The environment variables Upstash's SDKs read (`UPSTASH_REDIS_REST_URL`/`_TOKEN`,
   * `UPSTASH_VECTOR_REST_URL`/`_TOKEN`, `UPSTASH_SEARCH_REST_URL`/`_TOKEN`,
   * `QSTASH_URL`/`QSTASH_TOKEN`). Secret.
   */
  declare public readonly env: pulumi.Output<Record<string, string>>;
  /** QStash only: `"v2"` or `"legacy"` (the account-level API). */
  declare public readonly qstashApi: pulumi.Output<QStashApiVersion | undefined>;
  /** When this resource last rotated the credentials (ISO 8601). */
  declare public readonly rotatedAt: pulumi.Output<string>;
  /** How many rotations this resource has made. */
  declare public readonly rotationCount: pulumi.Output<number>;

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
    super(
      credentialRotationProvider,
      name,
      {
        target: args.target,
        trigger: args.trigger ?? null,
        onDelete: args.onDelete ?? "keep",
        email: args.email === undefined ? undefined : pulumi.secret(args.email),
        apiKey: args.apiKey === undefined ? undefined : pulumi.secret(args.apiKey),
        resourceId: undefined,
        token: undefined,
        readOnlyToken: undefined,
        restUrl: undefined,
        endpoint: undefined,
        password: undefined,
        port: undefined,
        redisUrl: undefined,
        env: undefined,
        qstashApi: undefined,
        rotatedAt: undefined,
        rotationCount: undefined,
      },
      {
        ...opts,
        additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...CREDENTIAL_OUTPUTS],
      },
      "upstash",
      "CredentialRotation",
    );
  }
}

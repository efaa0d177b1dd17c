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
   * Changing it replaces the resource (the new target is rotated on create).
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
   * deleted; `"rotate"` resets them once more so the last exported ones stop working.
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
  /** Base URL of the target's REST API. */
  declare public readonly restUrl: pulumi.Output<string>;
  /** Host name of the target. */
  declare public readonly endpoint: pulumi.Output<string>;
  /** Redis only: the database password. Secret. */
  declare public readonly password: pulumi.Output<string | undefined>;
  /** Redis only: the TLS port. */
  declare public readonly port: pulumi.Output<number | undefined>;
  /** Redis only: `rediss://default:PASSWORD@ENDPOINT:PORT`. Secret. */
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

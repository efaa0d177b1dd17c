import type { ZodType } from "zod";
import { ResponseShapeError, type UpstashClient } from "../http/client";
import { hasUpstashCode, messageOf, PortableError, type UpstashApiError } from "../http/errors";

/** A Redis database, by the id the console and the Developer API show. */
export interface RedisTarget {
  type: "redis";
  /** The database id, e.g. `96ad0856-03b1-4ee7-9666-e81abd0349e1`. */
  databaseId: string;
}

/** An Upstash Vector index. */
export interface VectorTarget {
  type: "vector";
  /** The index id. */
  indexId: string;
}

/** An Upstash Search index. */
export interface SearchTarget {
  type: "search";
  /** The index id. */
  indexId: string;
}

/** The QStash user of the account (or of the team the API key belongs to). */
export interface QStashTarget {
  type: "qstash";
  /**
   * The QStash user id. Leave it out when the account has exactly one QStash
   * user: it is then looked up, and accounts on the older API are rotated with
   * the account-level endpoint.
   */
  qstashUserId?: string;
}

/** What to rotate. Changing it replaces the resource. */
export type RotationTarget = RedisTarget | VectorTarget | SearchTarget | QStashTarget;

export type TargetType = RotationTarget["type"];

/** Which QStash API a QStash target was rotated through. */
export type QStashApiVersion = "v2" | "legacy";

/** Credentials as every target reports them, named the same across targets. */
export interface IssuedCredentials {
  /** The database, index or QStash user whose credentials these are. */
  resourceId: string;
  /** REST token (QStash: the QStash token). */
  token: string;
  /** Read-only REST token, where the target has one. */
  readOnlyToken?: string;
  /** Base URL of the target's REST API. */
  restUrl: string;
  /** Host name of the target. */
  endpoint: string;
  /** Redis only: the database password. */
  password?: string;
  /** Redis only: the TLS port. */
  port?: number;
  /** Redis only: `rediss://default:PASSWORD@ENDPOINT:PORT`. */
  redisUrl?: string;
  /** The variables Upstash's SDKs read, ready to hand to an application. */
  env: Record<string, string>;
  /** QStash only: which API the rotation went through. */
  qstashApi?: QStashApiVersion;
}

/** Where an earlier rotation left a target; QStash needs it to find the same user again. */
export interface RotationRecord {
  resourceId?: string;
  qstashApi?: QStashApiVersion;
}

/** The common interface behind which each Upstash product's endpoints live. */
export interface TargetDriver<T extends RotationTarget> {
  /** e.g. `Redis database 96ad…` for messages. */
  describe(target: T): string;
  /** Resets the credentials (the old ones die at once) and returns the new ones. */
  rotate(client: UpstashClient, target: T, record: RotationRecord): Promise<IssuedCredentials>;
  /** The current credentials, or `undefined` when the target no longer exists. */
  read(
    client: UpstashClient,
    target: T,
    record: RotationRecord,
  ): Promise<IssuedCredentials | undefined>;
}

/**
 * The reset went through but its new credentials could not be read. The old
 * credentials are already dead, so the message says so and points at refresh.
 */
export class RotatedButUnreadError extends PortableError {
  readonly cause: UpstashApiError | undefined;
  constructor(what: string, cause: unknown) {
    const reason = messageOf(cause) ?? "the target was not found when reading back";
    super(
      `The credentials of ${what} were rotated (the previous ones no longer work), but reading the new ones back failed: ${reason} ` +
        "Run `pulumi refresh` or `pulumi up` again to record the new credentials; neither resets them again.",
    );
    this.name = "RotatedButUnreadError";
    this.cause = hasUpstashCode(cause) ? cause : undefined;
  }
}

/** Whether `error` is a `RotatedButUnreadError`, by name (see `hasUpstashCode` on `instanceof`). */
export function isRotatedButUnread(error: unknown): error is RotatedButUnreadError {
  return (
    messageOf(error) !== undefined && (error as { name?: unknown }).name === "RotatedButUnreadError"
  );
}

/** Validates a decoded body with a zod schema, naming the fields that failed but never their values. */
export function parseShape<T>(schema: ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => issue.path.join(".") || "(body)");
  throw new ResponseShapeError(`missing or invalid: ${[...new Set(fields)].join(", ")}`);
}

/**
 * The reset call first, then (when its answer lacks the credentials, as the
 * "OK" endpoints do, or is unreadable) a read-back. A failing read-back is a
 * `RotatedButUnreadError`, because by then the old credentials are gone.
 */
export async function resetThenReadBack(
  what: string,
  reset: () => Promise<IssuedCredentials | undefined>,
  readBack: () => Promise<IssuedCredentials | undefined>,
): Promise<IssuedCredentials> {
  let issued: IssuedCredentials | undefined;
  try {
    issued = await reset();
  } catch (error) {
    // A 2xx with an unreadable body still means the reset happened.
    if (!hasUpstashCode(error, "malformed_response")) throw error;
  }
  if (issued) return issued;
  let current: IssuedCredentials | undefined;
  try {
    current = await readBack();
  } catch (error) {
    throw new RotatedButUnreadError(what, error);
  }
  if (!current) throw new RotatedButUnreadError(what, undefined);
  return current;
}

/** `read` semantics: a 404 means the target is gone, not an error. */
export async function unlessGone<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (hasUpstashCode(error, "not_found")) return undefined;
    throw error;
  }
}

/** The REST host of a Vector or Search index; the API gives it without the product suffix. */
export function indexRestHost(endpoint: string, product: "vector" | "search"): string {
  return endpoint.includes(".") ? endpoint : `${endpoint}-${product}.upstash.io`;
}

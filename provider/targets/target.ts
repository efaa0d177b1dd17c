import type { UpstashClient } from "../http/client";

/**
 * A Redis database, by the id the console and the Developer API show. Without
 * `user`, its own credentials are reset (every holder of the old ones breaks).
 * With `user`, an ACL user's passwords rotate with overlap: the previous one
 * stays valid until the next rotation (paid databases; the free tier has no ACL).
 */
export interface RedisTarget {
  /** `"redis"`: which kind of target this is. */
  type: "redis";
  /** The database id, e.g. `96ad0856-03b1-4ee7-9666-e81abd0349e1`. */
  databaseId: string;
  /** An ACL user to issue overlapping credentials for (not `default`). Another user replaces the resource. */
  user?: string;
  /**
   * The user's ACL rules, applied as `resetkeys resetchannels nocommands <rules>`
   * (keys `~pattern`, channels `&pattern`, `+cmd`/`-cmd`, `+@cat`/`-@cat`,
   * `allkeys`, `allchannels`, `allcommands`, `nocommands`, `resetkeys`,
   * `resetchannels`). Default `["~*", "&*", "+@all", "-@dangerous"]`. A change
   * is applied without rotating.
   */
  rules?: string[];
}

/** An Upstash Vector index. */
export interface VectorTarget {
  /** `"vector"`: which kind of target this is. */
  type: "vector";
  /** The index id. */
  indexId: string;
}

/** An Upstash Search index. */
export interface SearchTarget {
  /** `"search"`: which kind of target this is. */
  type: "search";
  /** The index id. */
  indexId: string;
}

/** The QStash user of the account (or of the team the API key belongs to). */
export interface QStashTarget {
  /** `"qstash"`: which kind of target this is. */
  type: "qstash";
  /**
   * The QStash user id. Leave it out when the account has exactly one QStash
   * user: it is then looked up, and accounts on the older API are rotated with
   * the account-level endpoint. Setting it later to the id that was looked up,
   * or leaving it out again, is an update, not a replacement.
   */
  qstashUserId?: string;
}

/**
 * The signing keys of a QStash user (`current` and `next`), rolled through the
 * user's QStash API with its token. Create adopts the keys as they are; a
 * trigger change rolls them once.
 */
export interface QStashSigningKeysTarget {
  /** `"qstash-signing-keys"`: which kind of target this is. */
  type: "qstash-signing-keys";
  /** The QStash user id; resolved as for the `qstash` target when left out. */
  qstashUserId?: string;
}

/** Targets whose credentials are reset through the Developer API. */
export type ResetTarget = RedisTarget | VectorTarget | SearchTarget | QStashTarget;

/** What to rotate. Changing it replaces the resource. */
export type RotationTarget = ResetTarget | QStashSigningKeysTarget;

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
  /** Base URL of the target's REST API, always `https://` and a full host name. */
  restUrl: string;
  /** Full host name of the target. */
  endpoint: string;
  /** Redis only: the database password. */
  password?: string;
  /** Redis only: the TLS port. */
  port?: number;
  /** Redis only: `rediss://default:PASSWORD@HOST:PORT`. */
  redisUrl?: string;
  /** The variables Upstash's SDKs read, ready to hand to an application. */
  env: Record<string, string>;
  /** QStash only: which API the rotation went through. */
  qstashApi?: QStashApiVersion;
  /**
   * Set on a reading without credentials (Redis with Credential Protection:
   * Upstash shows them once, in the reset's answer). `token` is then empty
   * and nothing in it may be recorded or handed out.
   */
  concealed?: true;
}

/** Where an earlier rotation left a target; QStash needs it to find the same user again. */
export interface RotationRecord {
  resourceId?: string;
  qstashApi?: QStashApiVersion;
}

/** The concrete database, index or QStash user a target resolves to. */
export interface LocatedTarget {
  /** Its id in the Developer API (QStash legacy: the user id the API reported, or empty). */
  id: string;
  /** QStash only: which API addresses it. */
  qstashApi?: QStashApiVersion;
}

/**
 * The common interface behind which each Upstash product's endpoints live.
 * Drivers make single calls; the rules that make a rotation happen exactly
 * once (read before, never re-send blindly, prove absence) live in ./lifecycle.
 */
export interface TargetDriver<T extends RotationTarget> {
  /** e.g. `Redis database 96ad…` for messages. */
  describe(target: T): string;
  /** Finds what the target addresses; QStash may look its user up. */
  locate(client: UpstashClient, target: T, record: RotationRecord): Promise<LocatedTarget>;
  /** The current credentials; a typed `not_found` error when the API answers 404. */
  get(client: UpstashClient, located: LocatedTarget): Promise<IssuedCredentials>;
  /**
   * One reset request, never repeated by the client when its outcome is
   * unknown. Returns the new credentials when the answer carries them.
   */
  reset(client: UpstashClient, located: LocatedTarget): Promise<IssuedCredentials | undefined>;
  /** The ids the account lists for this product: the proof that a 404 means deleted. */
  listIds(client: UpstashClient, located: LocatedTarget): Promise<string[]>;
}

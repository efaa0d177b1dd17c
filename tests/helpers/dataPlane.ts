import { createHash } from "crypto";
import { dataPlaneHostUrl, redisHost, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";

export const sha256 = (value: string): string => createHash("sha256").update(value).digest("hex");

/** A Redis REST answer: the status and `{result}` or `{error}`. */
export interface RedisReply {
  status: number;
  result?: unknown;
  error?: string;
}

/** One Redis command over the emulator's REST data plane, as a consumer sends it. */
export async function redisRest(
  emulator: UpstashEmulator,
  token: string,
  args: unknown[],
  databaseId: string = FIXTURE_IDS.redis,
): Promise<RedisReply> {
  const db = emulator.data.redis.get(databaseId);
  if (!db) throw new Error(`no database ${databaseId}`);
  const response = await fetch(`${dataPlaneHostUrl(emulator.url, redisHost(db))}/`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(args),
  });
  const text = await response.text();
  let body: { result?: unknown; error?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = { error: text };
  }
  return { status: response.status, ...body };
}

/** 200 when `token` authenticates to the database's REST API (PING), else its status. */
export async function pingStatus(
  emulator: UpstashEmulator,
  token: string,
  databaseId: string = FIXTURE_IDS.redis,
): Promise<number> {
  return (await redisRest(emulator, token, ["PING"], databaseId)).status;
}

/** An ACL command sent with the database's own REST token (user `default`). */
export async function asAdmin(
  emulator: UpstashEmulator,
  args: unknown[],
  databaseId: string = FIXTURE_IDS.redis,
): Promise<RedisReply> {
  const db = emulator.data.redis.get(databaseId)!;
  return redisRest(emulator, db.rest_token, args, databaseId);
}

/** The SHA-256 digests of an ACL user's passwords; undefined when the user does not exist. */
export async function aclPasswords(
  emulator: UpstashEmulator,
  user: string,
  databaseId: string = FIXTURE_IDS.redis,
): Promise<string[] | undefined> {
  const reply = await asAdmin(emulator, ["ACL", "GETUSER", user], databaseId);
  if (reply.result === null) return undefined;
  const fields = reply.result as unknown[];
  return fields[fields.indexOf("passwords") + 1] as string[];
}

import type { UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import type { ApiCall } from "../../provider/http/client";

const DB = FIXTURE_IDS.redis;

/** The fixture database's reset as an `ApiCall` that keeps the body as it is. */
export function resetRedisCall(extra: Partial<ApiCall<unknown>> = {}): ApiCall<unknown> {
  return {
    method: "POST",
    path: `/v2/redis/reset-password/${DB}`,
    operation: "reset password of Redis database",
    targetId: DB,
    parse: (body) => body,
    ...extra,
  };
}

/** The fixture database's read as an `ApiCall` that keeps the body as it is. */
export const readRedisCall: ApiCall<unknown> = {
  method: "GET",
  path: `/v2/redis/database/${DB}`,
  operation: "read Redis database",
  targetId: DB,
  parse: (body) => body,
};

/**
 * A reset of a Redis database made behind Pulumi's back, as a person with the
 * console or the Developer API would; fails unless the emulator answers 200.
 */
export async function resetOutsidePulumi(
  emulator: UpstashEmulator,
  databaseId: string = DB,
): Promise<void> {
  const { email, apiKey } = emulator.data.account;
  const response = await fetch(`${emulator.url}/v2/redis/reset-password/${databaseId}`, {
    method: "POST",
    headers: { Authorization: `Basic ${Buffer.from(`${email}:${apiKey}`).toString("base64")}` },
  });
  if (response.status !== 200) throw new Error(`the outside reset answered ${response.status}`);
}

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

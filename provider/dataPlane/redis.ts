import { dataPlaneRequest, DataPlaneError, isDataPlaneError } from "./client";

/** What `ACL GETUSER` tells about a user: whether it is on, and its passwords' SHA-256 (hex). */
export interface AclUserInfo {
  enabled: boolean;
  passwords: string[];
}

/** One Redis command over REST (`POST /` with a JSON array); answers its `result`. */
export async function redisCommand(
  host: string,
  token: string,
  args: string[],
  options: { operation: string; idempotent: boolean; secrets?: readonly (string | undefined)[] },
): Promise<unknown> {
  const body = await dataPlaneRequest({
    method: "POST",
    host,
    path: "/",
    token,
    body: args,
    operation: options.operation,
    idempotent: options.idempotent,
    secrets: options.secrets,
  });
  if (body === null || typeof body !== "object" || !("result" in body)) {
    throw new DataPlaneError("malformed_response", {
      operation: options.operation,
      host,
      status: 200,
      detail: "no result in the answer",
      attempts: 1,
      outcomeUnknown: false,
    });
  }
  return (body as { result: unknown }).result;
}

/**
 * `ACL GETUSER`'s reply: a flat `[name, value, …]` array (RESP2 as REST
 * encodes it) or a map (RESP3); `undefined` for a missing user (null).
 */
export function aclUserInfo(reply: unknown): AclUserInfo | undefined {
  if (reply === null || reply === undefined) return undefined;
  let fields: Record<string, unknown> = {};
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) fields[String(reply[i])] = reply[i + 1];
  } else if (typeof reply === "object") fields = reply as Record<string, unknown>;
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.map(String) : typeof value === "string" ? value.split(/\s+/) : [];
  return {
    enabled: list(fields.flags).includes("on"),
    passwords: list(fields.passwords).map((hash) => hash.toLowerCase()),
  };
}

/** A Redis error that proves the token authenticated (the user may lack the command). */
export function isPermissionError(error: unknown): boolean {
  return isDataPlaneError(error, "bad_request") && /^NOPERM\b/.test(error.upstashMessage ?? "");
}

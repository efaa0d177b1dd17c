import type { UpstashClient } from "../http/client";
import { hasUpstashCode, UpstashApiError } from "../http/errors";
import { parseShape, schemaOnce } from "./shapes";
import type {
  IssuedCredentials,
  LocatedTarget,
  QStashApiVersion,
  QStashTarget,
  TargetDriver,
} from "./target";

const userSchema = schemaOnce("qstash.user", (z) =>
  z.object({
    id: z.string().min(1).optional(),
    token: z.string().min(1),
    read_only_token: z.string().min(1).optional(),
    region: z.string().optional(),
  }),
);

const userListSchema = schemaOnce("qstash.users", (z) =>
  z.array(z.object({ id: z.string().min(1) })),
);

/** QStash has no per-user host except outside the default (EU) region. */
function qstashHost(region: string | undefined): string {
  return region && region !== "eu-central-1" ? `qstash-${region}.upstash.io` : "qstash.upstash.io";
}

function credentialsOf(body: unknown, user: LocatedTarget): IssuedCredentials {
  const parsed = parseShape(userSchema(), body);
  const endpoint = qstashHost(parsed.region);
  const restUrl = `https://${endpoint}`;
  return {
    resourceId: parsed.id ?? user.id,
    token: parsed.token,
    readOnlyToken: parsed.read_only_token,
    restUrl,
    endpoint,
    env: { QSTASH_URL: restUrl, QSTASH_TOKEN: parsed.token },
    qstashApi: user.qstashApi,
  };
}

function listUsers(client: UpstashClient): Promise<string[]> {
  return client.call({
    method: "GET",
    path: "/v2/qstash/users",
    operation: "list QStash users",
    idempotent: true,
    parse: (body) => parseShape(userListSchema(), body).map((user) => user.id),
  });
}

const legacy = (id = ""): LocatedTarget => ({ id, qstashApi: "legacy" });
const v2 = (id: string): LocatedTarget => ({ id, qstashApi: "v2" });
const isLegacy = (api: QStashApiVersion | undefined): boolean => api === "legacy";

function getUser(client: UpstashClient, user: LocatedTarget): Promise<IssuedCredentials> {
  return isLegacy(user.qstashApi)
    ? client.call({
        method: "GET",
        path: "/qstash/user",
        operation: "read QStash user (account-level API)",
        idempotent: true,
        parse: (body) => credentialsOf(body, user),
      })
    : client.call({
        method: "GET",
        path: `/v2/qstash/user/${encodeURIComponent(user.id)}`,
        operation: "read QStash user",
        targetId: user.id,
        idempotent: true,
        parse: (body) => credentialsOf(body, user),
      });
}

/**
 * The users list answered 404: the account-level API is used only when the v2
 * API is absent indeed, i.e. it does not serve the user the account-level API
 * reports. A 404 of a v2 API that exists (a transient fault, a proxy) must not
 * switch a multi-user account to rotating whichever user the old API picks.
 */
async function confirmLegacy(client: UpstashClient): Promise<LocatedTarget> {
  const user = await getUser(client, legacy());
  if (!user.resourceId) return legacy();
  try {
    await getUser(client, v2(user.resourceId));
  } catch (error) {
    if (hasUpstashCode(error, "not_found")) return legacy(user.resourceId);
    throw error;
  }
  throw new UpstashApiError(
    "not_found",
    { operation: "list QStash users", status: 404 },
    "Yet the v2 API serves the account's QStash user, so the users list should exist: not falling back to the account-level API. Run again; if it persists, set target.qstashUserId.",
  );
}

/** QStash: the rotation answers with the user, new token included. */
export const qstashDriver: TargetDriver<QStashTarget> = {
  describe: (target) =>
    target.qstashUserId ? `QStash user ${target.qstashUserId}` : "the account's QStash user",

  /**
   * The user named by the target, the one remembered from an earlier rotation,
   * or the one user of the account from `GET /v2/qstash/users`. Accounts whose
   * API has no such endpoint (404) use the older account-level API.
   */
  async locate(client, target, record) {
    const named = target.qstashUserId?.trim();
    // The id a legacy rotation reported, now written into the target: still the same user.
    if (named && isLegacy(record.qstashApi) && record.resourceId === named) return legacy(named);
    if (named) return v2(named);
    if (isLegacy(record.qstashApi)) return legacy(record.resourceId);
    if (record.qstashApi === "v2" && record.resourceId) return v2(record.resourceId);
    let users: string[];
    try {
      users = await listUsers(client);
    } catch (error) {
      if (hasUpstashCode(error, "not_found")) return confirmLegacy(client);
      throw error;
    }
    if (users.length === 1) return v2(users[0]);
    const found = users.length === 0 ? "none" : `${users.length}: ${users.join(", ")}`;
    throw new UpstashApiError(
      "bad_request",
      { operation: "choose the QStash user to rotate" },
      `The account must have exactly one QStash user when target.qstashUserId is not set, but it has ${found}. Set target.qstashUserId to the one to rotate.`,
    );
  },

  get: getUser,

  reset(client, user) {
    const answer = (body: unknown): IssuedCredentials | undefined => {
      try {
        return credentialsOf(body, user);
      } catch {
        return undefined; // read back instead
      }
    };
    return isLegacy(user.qstashApi)
      ? client.call({
          method: "POST",
          path: "/qstash/user/rotatetoken",
          operation: "rotate QStash token (account-level API)",
          idempotent: false,
          parse: answer,
        })
      : client.call({
          method: "POST",
          path: `/v2/qstash/rotate-token/${encodeURIComponent(user.id)}`,
          operation: "rotate QStash token",
          targetId: user.id,
          idempotent: false,
          parse: answer,
        });
  },

  listIds: (client) => listUsers(client),
};

import { z } from "zod";
import type { UpstashClient } from "../http/client";
import { hasUpstashCode, UpstashApiError } from "../http/errors";
import {
  parseShape,
  resetThenReadBack,
  unlessGone,
  type IssuedCredentials,
  type QStashApiVersion,
  type QStashTarget,
  type RotationRecord,
  type TargetDriver,
} from "./target";

function userSchema() {
  return z.object({
    id: z.string().min(1).optional(),
    token: z.string().min(1),
    read_only_token: z.string().min(1).optional(),
    region: z.string().optional(),
  });
}

function userListSchema() {
  return z.array(z.object({ id: z.string().min(1) }));
}

/** QStash has no per-user host except outside the default (EU) region. */
function qstashHost(region: string | undefined): string {
  return region && region !== "eu-central-1" ? `qstash-${region}.upstash.io` : "qstash.upstash.io";
}

function credentialsOf(
  body: unknown,
  fallbackId: string,
  api: QStashApiVersion,
): IssuedCredentials {
  const user = parseShape(userSchema(), body);
  const endpoint = qstashHost(user.region);
  const restUrl = `https://${endpoint}`;
  return {
    resourceId: user.id ?? fallbackId,
    token: user.token,
    readOnlyToken: user.read_only_token,
    restUrl,
    endpoint,
    env: { QSTASH_URL: restUrl, QSTASH_TOKEN: user.token },
    qstashApi: api,
  };
}

/** The QStash user a rotation addresses, and through which API. */
interface ResolvedUser {
  api: QStashApiVersion;
  /** Empty for the legacy account-level API, which has no user id. */
  id: string;
}

const LEGACY_ID = "";

/**
 * The one user of the account, from `GET /v2/qstash/users`. Accounts whose API
 * has no such endpoint (404) fall back to the older account-level API.
 */
async function resolveUser(
  client: UpstashClient,
  target: QStashTarget,
  record: RotationRecord,
): Promise<ResolvedUser> {
  if (target.qstashUserId) return { api: "v2", id: target.qstashUserId };
  if (record.qstashApi === "legacy") return { api: "legacy", id: LEGACY_ID };
  if (record.qstashApi === "v2" && record.resourceId) return { api: "v2", id: record.resourceId };
  let users: { id: string }[];
  try {
    users = await client.call({
      method: "GET",
      path: "/v2/qstash/users",
      operation: "list QStash users",
      parse: (body) => parseShape(userListSchema(), body),
    });
  } catch (error) {
    if (hasUpstashCode(error, "not_found")) return { api: "legacy", id: LEGACY_ID };
    throw error;
  }
  if (users.length === 1) return { api: "v2", id: users[0].id };
  const found =
    users.length === 0 ? "none" : `${users.length}: ${users.map((user) => user.id).join(", ")}`;
  throw new UpstashApiError(
    "bad_request",
    { operation: "choose the QStash user to rotate" },
    `The account must have exactly one QStash user when target.qstashUserId is not set, but it has ${found}. Set target.qstashUserId to the one to rotate.`,
  );
}

function readUser(client: UpstashClient, user: ResolvedUser): Promise<IssuedCredentials> {
  return user.api === "legacy"
    ? client.call({
        method: "GET",
        path: "/qstash/user",
        operation: "read QStash user (account-level API)",
        parse: (body) => credentialsOf(body, LEGACY_ID, "legacy"),
      })
    : client.call({
        method: "GET",
        path: `/v2/qstash/user/${encodeURIComponent(user.id)}`,
        operation: "read QStash user",
        targetId: user.id,
        parse: (body) => credentialsOf(body, user.id, "v2"),
      });
}

function rotateUser(
  client: UpstashClient,
  user: ResolvedUser,
): Promise<IssuedCredentials | undefined> {
  const answer = (body: unknown, api: QStashApiVersion): IssuedCredentials | undefined => {
    try {
      return credentialsOf(body, user.id, api);
    } catch {
      return undefined;
    }
  };
  return user.api === "legacy"
    ? client.call({
        method: "POST",
        path: "/qstash/user/rotatetoken",
        operation: "rotate QStash token (account-level API)",
        parse: (body) => answer(body, "legacy"),
      })
    : client.call({
        method: "POST",
        path: `/v2/qstash/rotate-token/${encodeURIComponent(user.id)}`,
        operation: "rotate QStash token",
        targetId: user.id,
        parse: (body) => answer(body, "v2"),
      });
}

const describeTarget = (target: QStashTarget): string =>
  target.qstashUserId ? `QStash user ${target.qstashUserId}` : "the account's QStash user";

/** QStash: the rotation answers with the user, new token included. */
export const qstashDriver: TargetDriver<QStashTarget> = {
  describe: describeTarget,

  async rotate(client, target, record) {
    const user = await resolveUser(client, target, record);
    return resetThenReadBack(
      describeTarget(target),
      () => rotateUser(client, user),
      () => readUser(client, user),
    );
  },

  read: (client, target, record) =>
    unlessGone(async () => readUser(client, await resolveUser(client, target, record))),
};

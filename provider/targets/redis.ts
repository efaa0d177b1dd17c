import { z } from "zod";
import type { UpstashClient } from "../http/client";
import {
  parseShape,
  resetThenReadBack,
  unlessGone,
  type IssuedCredentials,
  type RedisTarget,
  type TargetDriver,
} from "./target";

/**
 * The credential fields of the Redis `Database` object. The published OpenAPI
 * schema leaves them out, but real responses (and Upstash's own example)
 * carry them.
 */
function databaseSchema() {
  return z.object({
    database_id: z.string().min(1),
    endpoint: z.string().min(1),
    port: z.number().int().positive(),
    password: z.string().min(1),
    rest_token: z.string().min(1),
    read_only_rest_token: z.string().min(1).optional(),
    tls: z.boolean().optional(),
  });
}

type Database = z.infer<ReturnType<typeof databaseSchema>>;

function credentialsOf(db: Database): IssuedCredentials {
  const restUrl = `https://${db.endpoint}`;
  const scheme = db.tls === false ? "redis" : "rediss";
  return {
    resourceId: db.database_id,
    token: db.rest_token,
    readOnlyToken: db.read_only_rest_token,
    restUrl,
    endpoint: db.endpoint,
    password: db.password,
    port: db.port,
    redisUrl: `${scheme}://default:${encodeURIComponent(db.password)}@${db.endpoint}:${db.port}`,
    env: { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: db.rest_token },
  };
}

function getDatabase(client: UpstashClient, id: string): Promise<IssuedCredentials> {
  return client.call({
    method: "GET",
    path: `/v2/redis/database/${encodeURIComponent(id)}`,
    operation: "read Redis database",
    targetId: id,
    parse: (body) => credentialsOf(parseShape(databaseSchema(), body)),
  });
}

const describeTarget = (target: RedisTarget): string => `Redis database ${target.databaseId}`;

/** Redis: the reset answers with the whole database, new credentials included. */
export const redisDriver: TargetDriver<RedisTarget> = {
  describe: describeTarget,

  rotate(client, target) {
    const id = target.databaseId;
    return resetThenReadBack(
      describeTarget(target),
      () =>
        client.call({
          method: "POST",
          path: `/v2/redis/reset-password/${encodeURIComponent(id)}`,
          operation: "reset password of Redis database",
          targetId: id,
          parse: (body) => {
            const parsed = databaseSchema().safeParse(body);
            return parsed.success ? credentialsOf(parsed.data) : undefined;
          },
        }),
      () => getDatabase(client, id),
    );
  },

  read: (client, target) => unlessGone(() => getDatabase(client, target.databaseId)),
};

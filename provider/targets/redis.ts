import type { z } from "zod";
import type { UpstashClient } from "../http/client";
import { fullHost, parseShape, schemaOnce } from "./shapes";
import type { IssuedCredentials, RedisTarget, TargetDriver } from "./target";

/**
 * The credential fields of the Redis `Database` object. The published OpenAPI
 * schema leaves them out, but real responses (and Upstash's own example)
 * carry them, except on a database with Credential Protection, whose `GET`
 * leaves them out or empty: Upstash shows its credentials only once.
 */
const databaseSchema = schemaOnce("redis.database", (z) =>
  z.object({
    database_id: z.string().min(1),
    endpoint: z.string().min(1),
    port: z.number().int().positive(),
    password: z.string().optional(),
    rest_token: z.string().optional(),
    read_only_rest_token: z.string().optional(),
    tls: z.boolean().optional(),
  }),
);

const databaseListSchema = schemaOnce("redis.databases", (z) =>
  z.array(z.object({ database_id: z.string().min(1) })),
);

type Database = z.infer<ReturnType<typeof databaseSchema>>;

function credentialsOf(db: Database): IssuedCredentials {
  const host = fullHost(db.endpoint, ".upstash.io");
  const restUrl = `https://${host}`;
  const scheme = db.tls === false ? "redis" : "rediss";
  if (!db.password || !db.rest_token) {
    return {
      resourceId: db.database_id,
      token: "",
      restUrl,
      endpoint: host,
      port: db.port,
      env: { UPSTASH_REDIS_REST_URL: restUrl },
      concealed: true,
    };
  }
  return {
    resourceId: db.database_id,
    token: db.rest_token,
    readOnlyToken: db.read_only_rest_token || undefined,
    restUrl,
    endpoint: host,
    password: db.password,
    port: db.port,
    redisUrl: `${scheme}://default:${encodeURIComponent(db.password)}@${host}:${db.port}`,
    env: { UPSTASH_REDIS_REST_URL: restUrl, UPSTASH_REDIS_REST_TOKEN: db.rest_token },
  };
}

/** Redis: the reset answers with the whole database, new credentials included. */
export const redisDriver: TargetDriver<RedisTarget> = {
  describe: (target) => `Redis database ${target.databaseId}`,

  locate: async (_client, target) => ({ id: target.databaseId.trim() }),

  get: (client: UpstashClient, { id }) =>
    client.call({
      method: "GET",
      path: `/v2/redis/database/${encodeURIComponent(id)}`,
      operation: "read Redis database",
      targetId: id,
      idempotent: true,
      parse: (body) => credentialsOf(parseShape(databaseSchema(), body)),
    }),

  reset: (client, { id }) =>
    client.call({
      method: "POST",
      path: `/v2/redis/reset-password/${encodeURIComponent(id)}`,
      operation: "reset password of Redis database",
      targetId: id,
      idempotent: false,
      parse: (body) => {
        // Newer answers may leave the credentials out: they are read back then.
        const parsed = databaseSchema().safeParse(body);
        const issued = parsed.success ? credentialsOf(parsed.data) : undefined;
        return issued?.concealed ? undefined : issued;
      },
    }),

  listIds: (client) =>
    client.call({
      method: "GET",
      path: "/v2/redis/databases",
      operation: "list Redis databases",
      idempotent: true,
      parse: (body) => parseShape(databaseListSchema(), body).map((db) => db.database_id),
    }),
};

import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "./provider";
import { FIXTURE_IDS } from "./emulator/state";

/**
 * The root program: one rotation per Upstash target, plus the two that
 * overlap (a Redis ACL user and the QStash signing keys). Config `trigger`
 * bumps all of them; the ids default to the emulator's fixtures.
 */
export function rootProgram() {
  const config = new pulumi.Config();
  const trigger = config.get("trigger") ?? "initial";
  const redisDatabaseId = config.get("redisDatabaseId") ?? FIXTURE_IDS.redis;
  const redis = new CredentialRotation("redis", {
    target: { type: "redis", databaseId: redisDatabaseId },
    trigger,
  });
  const redisAcl = new CredentialRotation("redis-acl", {
    // Its own config so that the demo can give the ACL user a database of its
    // own: two consumer loops on one database would overwrite each other's key.
    target: {
      type: "redis",
      databaseId: config.get("redisAclDatabaseId") ?? redisDatabaseId,
      user: "app",
    },
    trigger,
  });
  const vector = new CredentialRotation("vector", {
    target: { type: "vector", indexId: config.get("vectorIndexId") ?? FIXTURE_IDS.vector },
    trigger,
  });
  const search = new CredentialRotation("search", {
    target: { type: "search", indexId: config.get("searchIndexId") ?? FIXTURE_IDS.search },
    trigger,
  });
  const qstash = new CredentialRotation("qstash", {
    target: { type: "qstash" },
    trigger,
    onDelete: "rotate",
  });
  const signingKeys = new CredentialRotation("signing-keys", {
    target: { type: "qstash-signing-keys" },
    trigger,
    // Create adopts the live keys and the guard counts that as a roll, so the
    // default "24h" would refuse the demo's trigger bump moments later. Keep the
    // default in a real project: two rolls before receivers update break them.
    minRollInterval: "0min",
  });
  return {
    redisRestUrl: redis.restUrl,
    redisUrl: redis.redisUrl,
    redisEnv: redis.env,
    redisAclEnv: redisAcl.env,
    vectorEnv: vector.env,
    searchEnv: search.env,
    qstashEnv: qstash.env,
    signingKeysEnv: signingKeys.env,
    rotationCounts: {
      redis: redis.rotationCount,
      redisAcl: redisAcl.rotationCount,
      vector: vector.rotationCount,
      search: search.rotationCount,
      qstash: qstash.rotationCount,
      signingKeys: signingKeys.rotationCount,
    },
  };
}

import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "./provider";
import { FIXTURE_IDS } from "./emulator/state";

/**
 * The root program: one rotation per Upstash target. Config `trigger` bumps
 * all of them; the ids default to the emulator's fixtures.
 */
export function rootProgram() {
  const config = new pulumi.Config();
  const trigger = config.get("trigger") ?? "initial";
  const redis = new CredentialRotation("redis", {
    target: { type: "redis", databaseId: config.get("redisDatabaseId") ?? FIXTURE_IDS.redis },
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
  return {
    redisRestUrl: redis.restUrl,
    redisUrl: redis.redisUrl,
    redisEnv: redis.env,
    vectorEnv: vector.env,
    searchEnv: search.env,
    qstashEnv: qstash.env,
    rotationCounts: {
      redis: redis.rotationCount,
      vector: vector.rotationCount,
      search: search.rotationCount,
      qstash: qstash.rotationCount,
    },
  };
}

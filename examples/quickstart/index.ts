import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "pulumi-upstash-credential-rotation";

const config = new pulumi.Config();

// Rotates the database's password, REST token and read-only REST token on the first
// `pulumi up`, and again whenever `trigger` changes (`pulumi config set trigger two`).
// The default id is the local emulator's Redis fixture: set yours with
// `pulumi config set redisDatabaseId <id>`.
const cache = new CredentialRotation("cache", {
  target: {
    type: "redis",
    databaseId: config.get("redisDatabaseId") ?? "96ad0856-03b1-4ee7-9666-e81abd0349e1",
  },
  trigger: config.get("trigger") ?? "initial",
});

// Secret outputs: `pulumi stack output` shows [secret] unless asked with --show-secrets,
// and other stacks receive them as secrets through a StackReference.
export const redisEnv = cache.env; // { UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN }
export const redisUrl = cache.redisUrl; // rediss://default:PASSWORD@ENDPOINT:PORT
export const password = cache.password;
export const token = cache.token;
export const readOnlyToken = cache.readOnlyToken;
// Not secret.
export const restUrl = cache.restUrl;
export const rotationCount = cache.rotationCount;

import * as pulumi from "@pulumi/pulumi";
// In your own project: from "pulumi-upstash-credential-rotation".
import { CredentialRotation, rotationWindow } from "../../../provider";

const config = new pulumi.Config();

// An ACL user of a paid Redis database. Each rotation adds a fresh password and keeps the
// previous one valid; the one before it is removed. Consumers that pick up the new outputs
// before the next rotation never see a failed request.
const app = new CredentialRotation("app-credentials", {
  target: {
    type: "redis",
    databaseId: config.require("databaseId"),
    user: config.get("user") ?? "app",
    rules: ["~*", "&*", "+@all", "-@dangerous"],
  },
  // A scheduled `pulumi up` rotates every 30 days; `pulumi config set rotation <new value>` now.
  trigger: config.get("rotation") ?? rotationWindow("30d"),
  // Suspected leak: `pulumi config set revokeAll <new value> && pulumi up` kills every
  // password of the user at once (and issues one new one).
  revokeAllOn: config.get("revokeAll"),
  // Destroying the stack deletes the ACL user (or only this stack's passwords of it).
  onDelete: "rotate",
});

export const redisEnv = app.env; // { UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN } (secret)
export const redisUrl = app.redisUrl; // rediss://app:…@host:port (secret)
export const rotatedAt = app.rotatedAt;

// QStash signing keys, when `pulumi config set signingKeys true`: adopted as they are on
// create; each change of `signingKeysRotation` rolls them once (never twice within 24 h).
const keys = config.getBoolean("signingKeys")
  ? new CredentialRotation("qstash-signing-keys", {
      target: { type: "qstash-signing-keys", qstashUserId: config.get("qstashUserId") },
      trigger: config.get("signingKeysRotation") ?? "initial",
    })
  : undefined;

// { QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY } (secret)
export const signingKeysEnv = keys?.env;

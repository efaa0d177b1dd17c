import * as pulumi from "@pulumi/pulumi";
// In your own project: from "pulumi-upstash-credential-rotation".
import { CredentialRotation } from "../../provider";

const config = new pulumi.Config();
const rotation = new CredentialRotation("cache", {
  target: { type: "redis", databaseId: config.require("databaseId") },
  // `pulumi config set rotation 2026-12` (any new value) rotates in place.
  trigger: config.get("rotation") ?? "initial",
});

export const redisEnv = rotation.env;
export const redisUrl = rotation.redisUrl;
export const rotatedAt = rotation.rotatedAt;

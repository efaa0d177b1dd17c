import { createHash, createHmac, randomUUID } from "crypto";

/**
 * What QStash puts in `Upstash-Signature` when it delivers a message: an HS256
 * JWT over the signing key, issuer "Upstash", subject the destination URL, and
 * the body's SHA-256 (base64url) as the `body` claim. The emulator publishes
 * nothing, so tests and the demo sign with it to check receivers.
 */
export function qstashSignature(key: string, url: string, body: string): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({
    iss: "Upstash",
    sub: url,
    exp: now + 300,
    nbf: now,
    iat: now,
    jti: `jwt_${randomUUID()}`,
    body: createHash("sha256").update(body).digest("base64url"),
  })}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

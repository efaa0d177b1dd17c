import { createHash } from "crypto";

/** Hex SHA-256: what the state keeps of a secret it must recognise later, never the secret. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

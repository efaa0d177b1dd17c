import assert from "assert";
import { DEFAULT_ACCOUNT } from "../../emulator/state";

/** Everything an error exposes (message, own properties, nested causes), to search for secrets in. */
export function everything(error: unknown): string {
  const own = error && typeof error === "object" ? Object.getOwnPropertyNames(error) : [];
  const record = error as Record<string, unknown>;
  return [
    String(error),
    ...own.map((key) => JSON.stringify(record[key]) ?? String(record[key])),
  ].join("\n");
}

/** Fails when an error exposes the account's key or email, any of `extra`, or an Authorization header. */
export function assertNoSecrets(error: unknown, extra: readonly string[] = []): void {
  const text = everything(error);
  for (const secret of [DEFAULT_ACCOUNT.apiKey, DEFAULT_ACCOUNT.email, ...extra]) {
    assert.ok(!text.includes(secret), `error exposes a secret: ${text}`);
  }
  assert.ok(!/authorization/i.test(text), "error exposes an Authorization header");
}

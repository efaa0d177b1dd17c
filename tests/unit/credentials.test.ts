import assert from "assert";
import { CredentialsConfigurationError } from "../../provider";
import { rememberConfiguredCredentials, resolveCredentials } from "../../provider/credentials";

describe("management credential precedence", () => {
  const saved = { email: process.env.UPSTASH_EMAIL, key: process.env.UPSTASH_API_KEY };
  beforeEach(() => {
    process.env.UPSTASH_EMAIL = "env@example.com";
    process.env.UPSTASH_API_KEY = "env-key";
    rememberConfiguredCredentials("config@example.com", "config-key");
  });
  after(() => {
    rememberConfiguredCredentials(undefined, undefined);
    process.env.UPSTASH_EMAIL = saved.email ?? "";
    process.env.UPSTASH_API_KEY = saved.key ?? "";
    if (saved.email === undefined) delete process.env.UPSTASH_EMAIL;
    if (saved.key === undefined) delete process.env.UPSTASH_API_KEY;
  });

  it("prefers inputs, then stack config, then the environment", () => {
    assert.deepStrictEqual(resolveCredentials({ email: "in@example.com", apiKey: "in-key" }), {
      email: "in@example.com",
      apiKey: "in-key",
    });
    assert.deepStrictEqual(resolveCredentials({}), {
      email: "config@example.com",
      apiKey: "config-key",
    });
    rememberConfiguredCredentials(undefined, undefined);
    assert.deepStrictEqual(resolveCredentials({}), { email: "env@example.com", apiKey: "env-key" });
  });

  it("refuses a partial tier instead of borrowing from the next one", () => {
    assert.throws(
      () => resolveCredentials({ email: "in@example.com" }),
      (error: unknown) =>
        error instanceof CredentialsConfigurationError &&
        /email is set in the resource inputs but apiKey is not/.test(error.message) &&
        !error.message.includes("config-key") &&
        !error.message.includes("env-key"),
    );
    rememberConfiguredCredentials(undefined, "config-key");
    assert.throws(() => resolveCredentials({}), /upstash:apiKey is set in the stack config/);
  });
});

import assert from "assert";
import { credentialRotationProvider as provider } from "../../provider";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { UNKNOWN_VALUE } from "../../provider/trigger";
import { useEnvironment } from "../helpers/environment";

const FAKE_KEY = "check-test-api-key-SECRET";

async function failures(news: Record<string, unknown>) {
  const result = await provider.check!({} as never, news as never);
  return result.failures ?? [];
}

describe("check", () => {
  useEnvironment({ UPSTASH_EMAIL: "ops@example.com", UPSTASH_API_KEY: FAKE_KEY });
  beforeEach(() => rememberConfiguredCredentials(undefined, undefined));

  it("accepts every target type and fills defaults", async () => {
    for (const target of [
      { type: "redis", databaseId: "db" },
      { type: "vector", indexId: "ix" },
      { type: "search", indexId: "ix" },
      { type: "qstash" },
      { type: "qstash", qstashUserId: "u" },
    ]) {
      const result = await provider.check!({} as never, { target } as never);
      assert.deepStrictEqual(result.failures, [], JSON.stringify(target));
      assert.strictEqual((result.inputs as { onDelete: string }).onDelete, "keep");
      assert.strictEqual((result.inputs as { trigger: unknown }).trigger, null);
    }
  });

  it("names the property for a wrong target type", async () => {
    const found = await failures({ target: { type: "postgres", databaseId: "x" } });
    assert.deepStrictEqual(
      found.map((f) => f.property),
      ["target.type"],
    );
    assert.match(found[0].reason, /"redis", "vector", "search" or "qstash"/);
  });

  it("names the missing id", async () => {
    const found = await failures({ target: { type: "redis" } });
    assert.deepStrictEqual(found, [{ property: "target.databaseId", reason: "is required" }]);
    const empty = await failures({ target: { type: "vector", indexId: "  " } });
    assert.deepStrictEqual(empty, [{ property: "target.indexId", reason: "must not be empty" }]);
  });

  it("rejects a field of another target type", async () => {
    const found = await failures({ target: { type: "vector", databaseId: "x", indexId: "i" } });
    assert.strictEqual(found[0].property, "target");
    assert.match(found[0].reason, /allowed: type, indexId/);
  });

  it("rejects a missing target and a bad onDelete", async () => {
    const found = await failures({ onDelete: "destroy" });
    assert.deepStrictEqual(found.map((f) => f.property).sort(), ["onDelete", "target"]);
  });

  it("lets values that are unknown during preview through", async () => {
    assert.deepStrictEqual(await failures({ target: UNKNOWN_VALUE, trigger: UNKNOWN_VALUE }), []);
    assert.deepStrictEqual(
      await failures({
        target: { type: "redis", databaseId: UNKNOWN_VALUE },
        apiKey: UNKNOWN_VALUE,
        email: UNKNOWN_VALUE,
      }),
      [],
    );
  });

  it("fails without any management credentials, naming every source", async () => {
    delete process.env.UPSTASH_EMAIL;
    delete process.env.UPSTASH_API_KEY;
    const found = await failures({ target: { type: "qstash" } });
    assert.strictEqual(found.length, 1);
    assert.strictEqual(found[0].property, "apiKey");
    assert.match(found[0].reason, /upstash:apiKey/);
    assert.match(found[0].reason, /UPSTASH_API_KEY/);
  });

  it("never combines an email and a key from different sources", async () => {
    rememberConfiguredCredentials("config@example.com", undefined);
    const fromConfig = await failures({ target: { type: "qstash" } });
    assert.strictEqual(fromConfig.length, 1);
    assert.match(
      fromConfig[0].reason,
      /upstash:email is set in the stack config but upstash:apiKey is not/,
    );

    const fromInputs = await failures({ target: { type: "qstash" }, apiKey: FAKE_KEY });
    assert.deepStrictEqual(
      fromInputs.map((f) => f.property),
      ["email"],
    );
    assert.ok(!JSON.stringify(fromInputs).includes(FAKE_KEY));
  });

  it("never echoes a value back in a failure", async () => {
    const found = await failures({
      target: { type: FAKE_KEY, databaseId: 42 },
      onDelete: FAKE_KEY,
      email: 7,
    });
    assert.ok(found.length >= 2);
    assert.ok(!JSON.stringify(found).includes(FAKE_KEY));
  });
});

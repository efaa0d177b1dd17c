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

  it("bounds minRollInterval to a year, which the guard can still satisfy", async () => {
    const keys = { target: { type: "qstash-signing-keys" } };
    for (const minRollInterval of ["0min", "24h", "366d", "52w", "12mo"]) {
      assert.deepStrictEqual(await failures({ ...keys, minRollInterval }), [], minRollInterval);
    }
    for (const minRollInterval of ["367d", "53w", "13mo", "9007199254740991w"]) {
      const found = await failures({ ...keys, minRollInterval });
      assert.deepStrictEqual(
        found.map((f) => f.property),
        ["minRollInterval"],
        minRollInterval,
      );
      assert.match(found[0].reason, /at most a year.*"0min"/);
    }
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

  it("lets an onDelete that is unknown during preview through", async () => {
    const result = await provider.check!(
      {} as never,
      { target: { type: "qstash" }, onDelete: UNKNOWN_VALUE } as never,
    );
    assert.deepStrictEqual(result.failures, []);
    assert.strictEqual((result.inputs as { onDelete: unknown }).onDelete, UNKNOWN_VALUE);
  });

  it("passes every unknown field and still checks the known ones", async () => {
    for (const target of [
      { type: "redis", databaseId: UNKNOWN_VALUE },
      { type: "vector", indexId: UNKNOWN_VALUE },
      { type: "search", indexId: UNKNOWN_VALUE },
      { type: "qstash", qstashUserId: UNKNOWN_VALUE },
      { type: UNKNOWN_VALUE, databaseId: "db" },
      UNKNOWN_VALUE,
    ]) {
      assert.deepStrictEqual(
        await failures({
          target,
          trigger: UNKNOWN_VALUE,
          onDelete: UNKNOWN_VALUE,
          email: UNKNOWN_VALUE,
          apiKey: UNKNOWN_VALUE,
        }),
        [],
        JSON.stringify(target),
      );
    }
    assert.deepStrictEqual(
      await failures({ target: { type: "vector", indexId: "  " }, onDelete: UNKNOWN_VALUE }),
      [{ property: "target.indexId", reason: "must not be empty" }],
    );
    const badOnDelete = await failures({
      target: { type: "redis", databaseId: UNKNOWN_VALUE },
      onDelete: "destroy",
      email: UNKNOWN_VALUE,
    });
    assert.deepStrictEqual(
      badOnDelete.map((f) => f.property),
      ["onDelete"],
    );
    const badEmail = await failures({
      target: { type: "qstash" },
      email: 7,
      apiKey: UNKNOWN_VALUE,
    });
    assert.deepStrictEqual(
      badEmail.map((f) => f.property),
      ["email"],
    );
  });

  it("hands on trimmed ids, email and apiKey", async () => {
    for (const [given, expected] of [
      [
        { type: "redis", databaseId: "  db-1\t" },
        { type: "redis", databaseId: "db-1" },
      ],
      [
        { type: "vector", indexId: " ix " },
        { type: "vector", indexId: "ix" },
      ],
      [
        { type: "search", indexId: "\nix" },
        { type: "search", indexId: "ix" },
      ],
      [
        { type: "qstash", qstashUserId: " u " },
        { type: "qstash", qstashUserId: "u" },
      ],
      [{ type: "qstash" }, { type: "qstash" }],
    ]) {
      const result = await provider.check!(
        {} as never,
        { target: given, email: " me@example.com\n", apiKey: `  ${FAKE_KEY} ` } as never,
      );
      assert.deepStrictEqual(result.failures, []);
      const inputs = result.inputs as unknown as Record<string, unknown>;
      assert.deepStrictEqual(inputs.target, expected);
      assert.strictEqual(inputs.email, "me@example.com");
      assert.strictEqual(inputs.apiKey, FAKE_KEY);
    }
  });

  it("keeps unknowns, __provider and trigger as given, and adds no absent fields", async () => {
    const trigger = { when: " 2026 ", list: [" a "] };
    const news = {
      __provider: "PROVIDER-TEXT",
      target: { type: "redis", databaseId: UNKNOWN_VALUE },
      trigger,
      email: UNKNOWN_VALUE,
      apiKey: UNKNOWN_VALUE,
    };
    const result = await provider.check!({} as never, news as never);
    assert.deepStrictEqual(result.failures, []);
    assert.deepStrictEqual(result.inputs, { ...news, onDelete: "keep" });

    const bare = await provider.check!({} as never, { target: { type: "qstash" } } as never);
    assert.deepStrictEqual(bare.inputs, {
      target: { type: "qstash" },
      onDelete: "keep",
      trigger: null,
    });

    const unknownTarget = { type: UNKNOWN_VALUE, databaseId: " db " };
    const passed = await provider.check!({} as never, { target: unknownTarget } as never);
    assert.deepStrictEqual((passed.inputs as { target: unknown }).target, unknownTarget);
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

import assert from "assert";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { useEmulator } from "../helpers/emulator";
import { loadSerializedProvider, serializeProvider } from "../harness/serializedProvider";

describe("serialized provider (as stored in state)", () => {
  const ctx = useEmulator();
  let text = "";

  before(async () => {
    // Secrets present in every place a careless provider could capture them from.
    rememberConfiguredCredentials(DEFAULT_ACCOUNT.email, DEFAULT_ACCOUNT.apiKey);
    const serialized = await serializeProvider();
    text = serialized.text;
    assert.strictEqual(serialized.containsSecrets, false);
    console.log(`      serialized provider: ${Buffer.byteLength(text)} bytes`);
  });

  it("holds no API key, email, password or token", async () => {
    const db = ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
    for (const secret of [
      DEFAULT_ACCOUNT.apiKey,
      DEFAULT_ACCOUNT.email,
      db.password,
      db.rest_token,
    ]) {
      assert.ok(!text.includes(secret), "secret captured in the serialized provider");
    }
    assert.ok(!text.includes("UPSTASH_API_KEY=") && !/Basic [A-Za-z0-9+/=]{8,}/.test(text));
  });

  it("loads packages by reference, copying only this repository's own modules", () => {
    // From sources every local module is copied by value (about 240 KB); installed from npm, the
    // stored text only requires operations.js (tests/e2e/installedPackage, tests/provider/upgrade).
    assert.ok(Buffer.byteLength(text) < 250_000, `serialized provider is ${text.length} bytes`);
    assert.match(text, /require\("axios\/dist\/node\/axios\.cjs"\)/);
    assert.match(text, /require\("zod"\)/);
    assert.ok(!text.includes("class AxiosHeaders"), "axios was copied by value");
  });

  it("works when loaded the way the dynamic-provider host loads it", async () => {
    const loaded = loadSerializedProvider(text);
    await loaded.configure!({
      config: {
        get: () => undefined,
        require: () => {
          throw new Error("unset");
        },
      },
    });
    const checked = await loaded.check!(
      {},
      { target: { type: "redis", databaseId: FIXTURE_IDS.redis } },
    );
    assert.deepStrictEqual(checked.failures, []);
    const created = await loaded.create(checked.inputs);
    assert.strictEqual(
      created.outs.password,
      ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!.password,
    );
    assert.strictEqual(ctx.emulator.rotations().length, 1);
  });

  it("keeps its typed errors' messages when loaded that way", async () => {
    const loaded = loadSerializedProvider(text);
    ctx.emulator.faults = [{ kind: "status", status: 404, method: "POST" }];
    const checked = await loaded.check!(
      {},
      { target: { type: "redis", databaseId: FIXTURE_IDS.redis } },
    );
    await assert.rejects(loaded.create(checked.inputs), (error: Error) => {
      assert.strictEqual(error.name, "UpstashNotFoundError");
      assert.match(error.message, /HTTP 404/);
      return true;
    });
  });

  it("still reports a lost read-back as a partial failure that names the cause", async () => {
    const loaded = loadSerializedProvider(text);
    process.env.UPSTASH_API_MAX_ATTEMPTS = "1";
    ctx.emulator.faults = [{ kind: "status", status: 500, method: "GET", after: 1 }];
    try {
      const checked = await loaded.check!(
        {},
        { target: { type: "vector", indexId: FIXTURE_IDS.vector } },
      );
      await assert.rejects(loaded.create(checked.inputs), (error: Error & { id?: string }) => {
        assert.strictEqual(error.id, `vector/${FIXTURE_IDS.vector}`);
        assert.match(error.message, /were rotated .* failed with HTTP 500/);
        return true;
      });
    } finally {
      delete process.env.UPSTASH_API_MAX_ATTEMPTS;
    }
  });
});

import assert from "assert";
import { execFileSync } from "child_process";
import path from "path";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { useEmulator } from "../helpers/emulator";
import { loadSerializedProvider, serializeProvider } from "../harness/serializedProvider";
import { REPO_ROOT } from "../harness/pulumiHarness";

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
    // The libraries are required on first use (provider/libraries.ts), by name.
    for (const library of ["axios", "axios-retry", "zod", "ioredis"]) {
      assert.ok(text.includes(`require("${library}")`), `${library} is not required by name`);
    }
    assert.ok(!text.includes("class AxiosHeaders"), "axios was copied by value");
    assert.ok(!text.includes("ZodObject"), "zod was copied by value");
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

  it("is loaded by a program without the libraries only the provider host uses", () => {
    // Every program that declares a CredentialRotation loads the package (the operations module
    // is the provider object); zod, axios and ioredis wait until the host parses or calls.
    const loaded = execFileSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        'require("./provider/index.ts"); console.log(JSON.stringify(Object.keys(require.cache)))',
      ],
      { cwd: REPO_ROOT, encoding: "utf8" },
    );
    const modules = JSON.parse(loaded) as string[];
    assert.ok(modules.some((file) => file.endsWith(path.join("provider", "operations.ts"))));
    for (const library of ["zod", "axios", "axios-retry", "ioredis"]) {
      const inside = `${path.sep}node_modules${path.sep}${library}${path.sep}`;
      assert.ok(
        !modules.some((file) => file.includes(inside)),
        `${library} loaded with the package`,
      );
    }
  });
});

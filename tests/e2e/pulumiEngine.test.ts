import assert from "assert";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { CredentialRotation } from "../../provider";
import { filesContaining, localStack, plainStackExport } from "../harness/pulumiHarness";

/**
 * The real Pulumi CLI (scripts/ensure-pulumi.sh) on a local file backend: the
 * engine serializes the provider into state, decides update versus replace,
 * encrypts secrets and runs refresh/destroy with the stored provider code.
 */
describe("through the Pulumi engine", function () {
  this.timeout(300_000);
  let emulator: UpstashEmulator;
  let stack: Stack;
  let backendDir: string;
  let trigger = "one";

  const program = async () => {
    const redis = new CredentialRotation("redis", {
      target: { type: "redis", databaseId: FIXTURE_IDS.redis },
      trigger: { window: trigger, team: "core" },
    });
    const vector = new CredentialRotation("vector", {
      target: { type: "vector", indexId: FIXTURE_IDS.vector },
      trigger: { team: "core", window: trigger },
    });
    const search = new CredentialRotation("search", {
      target: { type: "search", indexId: FIXTURE_IDS.search },
      trigger,
      onDelete: "rotate",
      // Management credentials as inputs rather than stack config: they must stay secret too.
      email: emulator.data.account.email,
      apiKey: emulator.data.account.apiKey,
    });
    const qstash = new CredentialRotation("qstash", { target: { type: "qstash" }, trigger });
    return {
      redis: redis.env,
      vector: vector.env,
      search: search.env,
      qstash: qstash.env,
      password: redis.password,
    };
  };

  before(async () => {
    emulator = await startEmulator();
    ({ stack, backendDir } = await localStack({
      emulator,
      projectName: "e2e-rotation",
      stackName: "producer",
      program,
    }));
  });
  after(async () => {
    await emulator?.close();
  });

  it("up rotates each target exactly once; outputs are the current credentials, as secrets", async () => {
    const result = await stack.up();
    assert.strictEqual(emulator.rotations().length, 4);
    const db = emulator.data.redis.get(FIXTURE_IDS.redis)!;
    assert.strictEqual(result.outputs.redis.value.UPSTASH_REDIS_REST_TOKEN, db.rest_token);
    assert.strictEqual(result.outputs.password.value, db.password);
    assert.strictEqual(
      result.outputs.qstash.value.QSTASH_TOKEN,
      emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token,
    );
    for (const [name, output] of Object.entries(result.outputs)) {
      assert.strictEqual(output.secret, true, `${name} is not secret`);
    }
  });

  it("preview and a second up with nothing changed make no API call", async () => {
    emulator.log.length = 0;
    const preview = await stack.preview();
    assert.strictEqual(preview.changeSummary.same, 5);
    const up = await stack.up();
    assert.strictEqual(up.summary.resourceChanges?.same, 5);
    assert.strictEqual(emulator.log.filter((e) => e.method === "POST").length, 0);
  });

  it("a bumped trigger previews as an update (no call) and up rotates once per target", async () => {
    trigger = "two";
    emulator.log.length = 0;
    const preview = await stack.preview();
    assert.strictEqual(preview.changeSummary.update, 4);
    assert.strictEqual(preview.changeSummary.replace ?? 0, 0);
    assert.strictEqual(emulator.rotations().length, 0);
    const up = await stack.up();
    assert.strictEqual(up.summary.resourceChanges?.update, 4);
    assert.strictEqual(emulator.rotations().length, 4);
  });

  it("refresh records a reset made behind Pulumi's back", async () => {
    const before = (await stack.outputs()).redis.value.UPSTASH_REDIS_REST_TOKEN;
    await resetOutsidePulumi(emulator);
    await stack.refresh();
    const after = await stack.up();
    const current = emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token;
    assert.notStrictEqual(before, current);
    assert.strictEqual(after.outputs.redis.value.UPSTASH_REDIS_REST_TOKEN, current);
  });

  it("no plaintext API key, password or token in the backend folder or in `pulumi stack export`", () => {
    const secrets = [
      emulator.data.account.apiKey,
      emulator.data.redis.get(FIXTURE_IDS.redis)!.password,
    ];
    for (const kind of ["redis", "vector", "search", "qstash"] as const) {
      for (const entry of emulator.data[kind].values()) {
        secrets.push(("rest_token" in entry ? entry.rest_token : entry.token) as string);
      }
    }
    assert.deepStrictEqual(filesContaining(backendDir, secrets), []);
    const exported = plainStackExport(stack);
    assert.match(exported, /"ciphertext"/, "the export holds no encrypted value");
    assert.deepStrictEqual(
      secrets.filter((secret) => exported.includes(secret)),
      [],
      "pulumi stack export shows a secret in plaintext",
    );
  });

  it("destroy rotates only where onDelete is rotate", async () => {
    emulator.log.length = 0;
    await stack.destroy();
    assert.deepStrictEqual(
      emulator.rotations().map((e) => e.path),
      [`/v2/search/${FIXTURE_IDS.search}/reset-password`],
    );
  });
});

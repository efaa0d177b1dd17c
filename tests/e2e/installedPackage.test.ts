import assert from "assert";
import type { Stack } from "@pulumi/pulumi/automation";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { emulatorEnvironment, startEmulator, type UpstashEmulator } from "../../emulator/server";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { installPackedPackage } from "../harness/installedPackage";
import { filesContaining, localStack } from "../harness/pulumiHarness";
import { loadSerializedProvider, serializeProvider } from "../harness/serializedProvider";
import { setEnvironment } from "../helpers/environment";

type PackageExports = typeof import("../../provider");

/**
 * The package as users get it (`npm pack`, unpacked into node_modules): the
 * provider stored in state is a small forwarder that requires the installed
 * operations module, and it works through the engine.
 */
describe("the package as installed from npm", function () {
  this.timeout(300_000);
  let emulator: UpstashEmulator;
  let installed: PackageExports;
  let projectDir: string;
  let text: string;

  before(async () => {
    emulator = await startEmulator();
    const layout = installPackedPackage();
    projectDir = layout.projectDir;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    installed = require(layout.packageDir) as PackageExports;
    rememberConfiguredCredentials(DEFAULT_ACCOUNT.email, DEFAULT_ACCOUNT.apiKey);
    ({ text } = await serializeProvider(
      installed.credentialRotationProvider as dynamic.ResourceProvider,
    ));
    rememberConfiguredCredentials(undefined, undefined);
  });
  after(async () => {
    await emulator?.close();
  });

  it("stores a forwarder of a few KB that requires only dist/provider/operations.js", () => {
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    assert.deepStrictEqual(required, [
      "pulumi-upstash-credential-rotation/dist/provider/operations.js",
    ]);
    assert.ok(
      Buffer.byteLength(text) < 4096,
      `stored provider is ${Buffer.byteLength(text)} bytes`,
    );
    assert.ok(!text.includes(DEFAULT_ACCOUNT.apiKey) && !text.includes(DEFAULT_ACCOUNT.email));
  });

  it("rotates when loaded the way the provider host loads it", async () => {
    const restoreEnvironment = setEnvironment({
      ...emulatorEnvironment(emulator.url),
      UPSTASH_EMAIL: DEFAULT_ACCOUNT.email,
      UPSTASH_API_KEY: DEFAULT_ACCOUNT.apiKey,
    });
    try {
      const provider = loadSerializedProvider(text, projectDir);
      const checked = await provider.check!(
        {},
        { target: { type: "redis", databaseId: FIXTURE_IDS.redis } },
      );
      const created = await provider.create(checked.inputs);
      assert.strictEqual(
        created.outs.password,
        emulator.data.redis.get(FIXTURE_IDS.redis)!.password,
      );
    } finally {
      restoreEnvironment();
    }
  });

  it("goes through up, rotation, refresh and destroy with the real engine", async () => {
    emulator.reset();
    let trigger = "one";
    const { stack, backendDir }: { stack: Stack; backendDir: string } = await localStack({
      emulator,
      projectName: "installed",
      stackName: "dev",
      workDir: projectDir,
      program: async () => {
        const rotation = new installed.CredentialRotation("cache", {
          target: { type: "redis", databaseId: FIXTURE_IDS.redis },
          trigger,
          onDelete: "rotate",
        });
        return { env: rotation.env };
      },
    });
    const first = await stack.up();
    assert.strictEqual(first.outputs.env.secret, true);
    trigger = "two";
    const second = await stack.up();
    assert.strictEqual(second.summary.resourceChanges?.update, 1);
    const current = emulator.data.redis.get(FIXTURE_IDS.redis)!;
    assert.strictEqual(second.outputs.env.value.UPSTASH_REDIS_REST_TOKEN, current.rest_token);
    await stack.refresh();
    assert.deepStrictEqual(
      filesContaining(backendDir, [DEFAULT_ACCOUNT.apiKey, current.password, current.rest_token]),
      [],
    );
    await stack.destroy();
    assert.strictEqual(emulator.rotations().length, 3, "up, rotate and destroy reset once each");
  });
});

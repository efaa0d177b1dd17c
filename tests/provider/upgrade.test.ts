import assert from "assert";
import { readFileSync } from "fs";
import path from "path";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import type { UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import type { RotationState } from "../../provider";
import { installPackedPackage } from "../harness/installedPackage";
import { loadSerializedProvider, serializeProvider } from "../harness/serializedProvider";
import { useEmulator } from "../helpers/emulator";

/**
 * Every state ever written stores a forwarder that requires
 * `dist/provider/operations.js` by export name. These are the texts and
 * states 0.1.0 wrote (tests/fixtures/v0.1.0), run against the current build
 * installed the way users install it.
 */
const FIXTURE_DIR = path.join(__dirname, "..", "fixtures", "v0.1.0");
const storedText = readFileSync(path.join(FIXTURE_DIR, "provider.js"), "utf8");

interface StoredResource {
  id: string;
  inputs: Record<string, unknown>;
  outputs: RotationState;
}
const stored = JSON.parse(readFileSync(path.join(FIXTURE_DIR, "states.json"), "utf8")) as Record<
  "redis" | "vector" | "qstash",
  StoredResource
>;

/** Puts the fixture's credentials into the emulator, as if 0.1.0 had just rotated them there. */
function seed(emulator: UpstashEmulator): void {
  const redis = stored.redis.outputs;
  Object.assign(emulator.data.redis.get(FIXTURE_IDS.redis)!, {
    password: redis.password,
    rest_token: redis.token,
    read_only_rest_token: redis.readOnlyToken,
  });
  for (const [kind, data] of [
    ["vector", emulator.data.vector.get(FIXTURE_IDS.vector)!],
    ["qstash", emulator.data.qstash.get(FIXTURE_IDS.qstash)!],
  ] as const) {
    Object.assign(data, {
      token: stored[kind].outputs.token,
      read_only_token: stored[kind].outputs.readOnlyToken,
    });
  }
}

const liveToken = (emulator: UpstashEmulator, kind: keyof typeof stored): string =>
  kind === "redis"
    ? emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token
    : emulator.data[kind].get(FIXTURE_IDS[kind])!.token;

describe("states written by 0.1.0, run by the current package", function () {
  this.timeout(300_000);
  const ctx = useEmulator();
  let provider: dynamic.ResourceProvider;
  let currentText: string;
  let projectDir: string;

  before(async () => {
    const layout = installPackedPackage();
    projectDir = layout.projectDir;
    const packageDir = layout.packageDir;
    provider = loadSerializedProvider(storedText, projectDir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const installed = require(packageDir) as typeof import("../../provider");
    ({ text: currentText } = await serializeProvider(
      installed.credentialRotationProvider as dynamic.ResourceProvider,
    ));
  });
  beforeEach(() => seed(ctx.emulator));

  it("the current package stores a text that requires the same module, so upgrading alone changes nothing", async () => {
    const required = [...currentText.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    assert.deepStrictEqual(required, [
      "pulumi-upstash-credential-rotation/dist/provider/operations.js",
    ]);
    // The engine diffs with the program's (current) text against the state 0.1.0 wrote.
    const current = loadSerializedProvider(currentText, projectDir);
    for (const resource of Object.values(stored)) {
      const olds = { ...resource.inputs, __provider: storedText };
      const news = { ...resource.inputs, __provider: currentText };
      const checked = await current.check!(olds, news);
      const outputs = { ...resource.outputs, __provider: storedText };
      const diff = await current.diff!(resource.id, outputs, checked.inputs);
      assert.strictEqual(diff.changes, false);
    }
    assert.strictEqual(ctx.emulator.rotations().length, 0);
  });

  for (const kind of ["redis", "vector", "qstash"] as const) {
    const resource = stored[kind];
    const outputs = (): RotationState => ({ ...resource.outputs, __provider: storedText });
    const inputs = (changes: Record<string, unknown> = {}) => ({
      ...resource.inputs,
      ...changes,
      __provider: storedText,
    });

    describe(kind, () => {
      it("an unchanged program is no change", async () => {
        const checked = await provider.check!(inputs(), inputs());
        const diff = await provider.diff!(resource.id, outputs(), checked.inputs);
        assert.strictEqual(diff.changes, false);
      });

      it("refresh keeps the credentials, drops the trigger hash and resets nothing", async () => {
        const read = await provider.read!(resource.id, outputs());
        assert.strictEqual(read.id, resource.id);
        assert.strictEqual(read.props.token, resource.outputs.token);
        assert.strictEqual(read.props.triggerHash, undefined);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
      });

      it("a trigger change rotates once", async () => {
        const checked = await provider.check!(outputs(), inputs({ trigger: "v2" }));
        const diff = await provider.diff!(resource.id, outputs(), checked.inputs);
        assert.strictEqual(diff.changes, true);
        assert.deepStrictEqual(diff.replaces, []);
        const updated = await provider.update!(resource.id, outputs(), checked.inputs);
        assert.strictEqual(ctx.emulator.rotations().length, 1);
        assert.strictEqual(updated.outs.token, liveToken(ctx.emulator, kind));
        assert.notStrictEqual(updated.outs.token, resource.outputs.token);
      });

      it("delete with onDelete rotate kills the credentials it handed out", async () => {
        await provider.delete!(resource.id, outputs());
        assert.strictEqual(ctx.emulator.rotations().length, 1);
        assert.notStrictEqual(liveToken(ctx.emulator, kind), resource.outputs.token);
      });
    });
  }
});

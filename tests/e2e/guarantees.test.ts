import assert from "assert";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { CredentialRotation } from "../../provider";
import { localStack, plainStackExport } from "../harness/pulumiHarness";

/**
 * The promises whose order the engine decides: a replacement is created
 * before the old resource is deleted, preview sends unknowns, and state is
 * written by the engine (secret inputs encrypted, everything else plaintext).
 */
describe("guarantees through the Pulumi engine", function () {
  this.timeout(300_000);
  const TRIGGER = "rotation-q3";
  let emulator: UpstashEmulator;
  let stack: Stack;
  let primaryName = "primary";

  const redisResets = () => emulator.rotations(/^\/v2\/redis\//).length;

  const program = async () => {
    const primary = new CredentialRotation(primaryName, {
      target: { type: "redis", databaseId: FIXTURE_IDS.redis },
      trigger: pulumi.secret(TRIGGER),
      onDelete: "rotate",
    });
    const follower = new CredentialRotation("follower", {
      target: { type: "vector", indexId: FIXTURE_IDS.vector },
      // Unknown during the first preview: it depends on an output of a resource not created yet.
      onDelete: primary.rotatedAt.apply((): "rotate" => "rotate"),
    });
    return { redisToken: primary.token, vectorToken: follower.token };
  };

  before(async () => {
    emulator = await startEmulator();
    ({ stack } = await localStack({
      emulator,
      projectName: "e2e-guarantees",
      stackName: "dev",
      program,
    }));
  });
  after(async () => {
    await emulator?.close();
  });

  it("preview passes with onDelete unknown", async () => {
    const preview = await stack.preview();
    assert.strictEqual(preview.changeSummary.create, 3);
    assert.strictEqual(emulator.rotations().length, 0);
  });

  it("up rotates each target once; no plaintext trigger nor a hash of it in state", async () => {
    await stack.up();
    assert.strictEqual(emulator.rotations().length, 2);
    const exported = plainStackExport(stack);
    const digest = createHash("sha256").update(JSON.stringify(TRIGGER)).digest("hex");
    assert.ok(!exported.includes(TRIGGER), "the secret trigger is in plaintext");
    assert.ok(!exported.includes(digest), "a hash of the secret trigger is in plaintext");
  });

  it("a rename without alias (create, then delete of the old one) leaves the new credentials alive", async () => {
    primaryName = "primary-renamed";
    const up = await stack.up();
    assert.strictEqual(up.summary.resourceChanges?.create, 1);
    assert.strictEqual(up.summary.resourceChanges?.delete, 1);
    assert.strictEqual(redisResets(), 2, "the old resource's delete reset again");
    const live = emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token;
    assert.strictEqual(up.outputs.redisToken.value, live);
  });

  it("destroy still kills what the remaining resources handed out", async () => {
    const handedOut = (await stack.outputs()).redisToken.value as string;
    await stack.destroy();
    assert.strictEqual(redisResets(), 3);
    assert.notStrictEqual(emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token, handedOut);
  });
});

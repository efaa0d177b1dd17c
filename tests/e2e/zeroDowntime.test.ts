import assert from "assert";
import { mkdtempSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { addRedis, FIXTURE_IDS } from "../../emulator/state";
import { CredentialRotation } from "../../provider";
import { filesContaining, localStack, projectProgram, REPO_ROOT } from "../harness/pulumiHarness";
import { ConsumerLoop } from "../helpers/consumerLoop";
import { aclPasswords, pingStatus } from "../helpers/dataPlane";

const example = (name: string): string => path.join(REPO_ROOT, "examples", "zero-downtime", name);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const tokenOf = async (stack: Stack): Promise<string> =>
  (await stack.outputs()).appEnv.value.UPSTASH_REDIS_REST_TOKEN as string;

/**
 * A producer stack rotates, a consumer stack reads its outputs through a
 * StackReference, and an application loop uses whatever the consumer stack
 * last handed it, through three rotations: once with an ACL user's
 * overlapping passwords (examples/zero-downtime), once with the database's
 * own credentials (a reset).
 */
describe("zero-downtime rotation through the Pulumi engine", function () {
  this.timeout(900_000);
  let emulator: UpstashEmulator;
  let backendDir: string;
  const counts: Record<string, { requests: number; failed: number }> = {};

  before(async () => {
    emulator = await startEmulator();
    backendDir = mkdtempSync(path.join(tmpdir(), "pulumi-backend-"));
  });
  after(async () => {
    const line = (name: string) =>
      counts[name]
        ? `${counts[name].failed} failed of ${counts[name].requests} requests`
        : "not run";
    console.log(
      `\n      consumer loop across 3 rotations, between each producer \`up\` and the consumer's:\n` +
        `        ACL user (overlap):          ${line("overlap")}\n` +
        `        database credentials (reset): ${line("reset")}`,
    );
    await emulator?.close();
  });

  async function stacks(
    producerProgram: Parameters<typeof localStack>[0]["program"],
    suffix: string,
  ): Promise<{ producer: Stack; consumer: Stack }> {
    const shared = { emulator, backendDir, stackName: "dev" };
    const { stack: producer } = await localStack({
      ...shared,
      projectName: `zero-downtime-producer${suffix}`,
      program: producerProgram,
    });
    const { stack: consumer } = await localStack({
      ...shared,
      projectName: `zero-downtime-consumer${suffix}`,
      program: projectProgram(example("consumer")),
    });
    await consumer.setConfig("producerStack", {
      value: `organization/zero-downtime-producer${suffix}/dev`,
    });
    return { producer, consumer };
  }

  /** Three rotations; the loop switches tokens only after the consumer's `up`. */
  async function threeRotations(
    producer: Stack,
    consumer: Stack,
    loop: ConsumerLoop,
  ): Promise<string[]> {
    const tokens = [await tokenOf(consumer)];
    for (let rotation = 1; rotation <= 3; rotation++) {
      await producer.setConfig("rotation", { value: `r${rotation}` });
      const up = await producer.up();
      assert.strictEqual(up.summary.resourceChanges?.update, 1, `rotation ${rotation}`);
      await sleep(200); // the application keeps running on its old token for a while
      await consumer.up();
      const fresh = await tokenOf(consumer);
      assert.notStrictEqual(fresh, tokens[tokens.length - 1]);
      tokens.push(fresh);
      loop.use(fresh);
      await sleep(200);
    }
    return tokens;
  }

  it("ACL user (examples/zero-downtime): 0 failed requests across three rotations", async () => {
    const { producer, consumer } = await stacks(projectProgram(example("producer")), "");
    await producer.setConfig("databaseId", { value: FIXTURE_IDS.redis });
    await producer.setConfig("rotation", { value: "r0" });
    const created = await producer.up();
    assert.strictEqual(created.outputs.redisEnv.secret, true);
    assert.strictEqual(created.outputs.redisUrl.secret, true);
    assert.match(created.outputs.redisUrl.value as string, /^rediss:\/\/app:/);
    const read = await consumer.up();
    assert.strictEqual(read.outputs.appEnv.secret, true, "the StackReference output is not secret");

    const loop = new ConsumerLoop(emulator, FIXTURE_IDS.redis);
    loop.use(await tokenOf(consumer));
    loop.start();
    let tokens: string[];
    try {
      tokens = await threeRotations(producer, consumer, loop);
    } finally {
      await loop.stop();
    }
    counts.overlap = { requests: loop.requests, failed: loop.failed };
    assert.ok(loop.requests > 50, `the loop made only ${loop.requests} requests`);
    assert.strictEqual(loop.failed, 0, `${loop.failed} of ${loop.requests} requests failed`);
    assert.strictEqual(emulator.rotations().length, 0, "the database's own credentials were reset");
    // Exactly {current, previous} work after the third rotation.
    assert.deepStrictEqual(
      await Promise.all(tokens.map((token) => pingStatus(emulator, token))),
      [401, 401, 200, 200],
    );
    const secrets = [...tokens, emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token];
    assert.deepStrictEqual(filesContaining(backendDir, secrets), [], "a plaintext secret on disk");

    // Incident response: one `up` kills every password of the user.
    await producer.setConfig("revokeAll", { value: "leak-1" });
    const revoked = await producer.up();
    const fresh = revoked.outputs.redisEnv.value.UPSTASH_REDIS_REST_TOKEN as string;
    assert.deepStrictEqual(
      await Promise.all([...tokens, fresh].map((token) => pingStatus(emulator, token))),
      [401, 401, 401, 401, 200],
    );

    await consumer.destroy();
    await producer.destroy();
    assert.strictEqual(
      await aclPasswords(emulator, "app"),
      undefined,
      'onDelete "rotate" kept the user',
    );
  });

  it("database credentials (no user): the same loop fails between the producer's up and the consumer's", async () => {
    const databaseId = addRedis(emulator.data).database_id;
    let rotation = "r0";
    const { producer, consumer } = await stacks(async () => {
      const db = new CredentialRotation("db-credentials", {
        target: { type: "redis", databaseId },
        trigger: rotation,
      });
      return { redisEnv: db.env, rotatedAt: db.rotatedAt };
    }, "-reset");
    await producer.up();
    await consumer.up();

    const loop = new ConsumerLoop(emulator, databaseId);
    loop.use(await tokenOf(consumer));
    loop.start();
    try {
      const tokens = [await tokenOf(consumer)];
      for (let i = 1; i <= 3; i++) {
        rotation = `r${i}`;
        await producer.up();
        await sleep(200);
        await consumer.up();
        tokens.push(await tokenOf(consumer));
        loop.use(tokens[i]);
        await sleep(200);
      }
    } finally {
      await loop.stop();
    }
    counts.reset = { requests: loop.requests, failed: loop.failed };
    assert.ok(
      loop.failed > 0,
      "a reset did not break the consumer: the comparison measures nothing",
    );
    assert.strictEqual(emulator.rotations().length, 4);
    await consumer.destroy();
    await producer.destroy();
  });
});

import assert from "assert";
import { mkdtempSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { dataPlaneStatus, startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import {
  filesContaining,
  localStack,
  projectProgram,
  REPO_ROOT,
} from "../../scripts/pulumiHarness";

const example = (name: string): string => path.join(REPO_ROOT, "examples", name);

/**
 * examples/producer, examples/consumer and examples/scheduled run as they are,
 * on one local backend: the consumer reads the producer through a StackReference.
 */
describe("example projects through the Pulumi engine", function () {
  this.timeout(300_000);
  let emulator: UpstashEmulator;
  let backendDir: string;
  let producer: Stack;
  let consumer: Stack;
  let scheduled: Stack;
  const issued: string[] = [];

  const currentRedis = () => emulator.data.redis.get(FIXTURE_IDS.redis)!;

  before(async () => {
    emulator = await startEmulator();
    backendDir = mkdtempSync(path.join(tmpdir(), "pulumi-backend-"));
    const shared = { emulator, backendDir, stackName: "dev" };
    ({ stack: producer } = await localStack({
      ...shared,
      projectName: "producer",
      program: projectProgram(example("producer")),
    }));
    await producer.setConfig("databaseId", { value: FIXTURE_IDS.redis });
    ({ stack: consumer } = await localStack({
      ...shared,
      projectName: "consumer",
      program: projectProgram(example("consumer")),
    }));
    await consumer.setConfig("producerStack", { value: "organization/producer/dev" });
    ({ stack: scheduled } = await localStack({
      ...shared,
      projectName: "scheduled",
      program: projectProgram(example("scheduled")),
    }));
  });
  after(async () => {
    await emulator?.close();
  });

  it("the consumer receives the producer's credentials through a StackReference, as secrets", async () => {
    const up = await producer.up();
    assert.strictEqual(emulator.rotations().length, 1);
    assert.strictEqual(up.outputs.redisEnv.secret, true);

    const read = await consumer.up();
    const env = read.outputs.appEnv;
    assert.strictEqual(env.secret, true, "the StackReference output arrived in plaintext");
    assert.strictEqual(env.value.UPSTASH_REDIS_REST_TOKEN, currentRedis().rest_token);
    assert.strictEqual(read.outputs.producerRotatedAt.secret, false);
    issued.push(currentRedis().rest_token, currentRedis().password);
  });

  it("after a rotation the consumer gets the new credentials and the old ones are dead", async () => {
    const old = (await consumer.outputs()).appEnv.value.UPSTASH_REDIS_REST_TOKEN as string;
    emulator.log.length = 0;
    await producer.setConfig("rotation", { value: "2026-12" });
    await producer.up();
    assert.strictEqual(emulator.rotations().length, 1);

    const read = await consumer.up();
    const fresh = read.outputs.appEnv.value.UPSTASH_REDIS_REST_TOKEN as string;
    assert.strictEqual(read.outputs.appEnv.secret, true);
    assert.notStrictEqual(fresh, old);
    assert.strictEqual(fresh, currentRedis().rest_token);
    assert.strictEqual(await dataPlaneStatus(emulator.url, old), 401);
    assert.strictEqual(await dataPlaneStatus(emulator.url, fresh), 200);
    issued.push(currentRedis().rest_token, currentRedis().password);
  });

  it("the scheduled example rotates once per window and once more on destroy", async () => {
    emulator.log.length = 0;
    const first = await scheduled.up();
    assert.strictEqual(first.outputs.qstashToken.secret, true);
    assert.strictEqual(first.outputs.rotationCount.value, 1);
    issued.push(first.outputs.qstashToken.value as string);

    const second = await scheduled.up();
    assert.strictEqual(second.summary.resourceChanges?.same, 2);
    assert.strictEqual(emulator.rotations().length, 1, "a run inside the same window rotated");

    await scheduled.destroy();
    assert.strictEqual(emulator.rotations().length, 2, 'onDelete: "rotate" did not rotate');
    assert.strictEqual(
      await dataPlaneStatus(emulator.url, first.outputs.qstashToken.value as string),
      401,
    );
  });

  it("no stack in the shared backend holds a plaintext API key, password or token", async () => {
    await consumer.destroy();
    await producer.destroy();
    assert.strictEqual(issued.length, 5);
    assert.deepStrictEqual(
      filesContaining(backendDir, [emulator.data.account.apiKey, ...issued]),
      [],
    );
  });
});

import assert from "assert";
import { readFileSync } from "fs";
import path from "path";
import { dataPlaneStatus, startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { emulatorUser, filesContaining } from "../harness/pulumiHarness";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import { PulumiUser } from "../harness/pulumiCli";
import { copyExample, exportedResources, finishWorkRoot } from "../harness/repoProject";
import { makeTempRoot } from "../harness/tempProject";

type Outputs = Record<string, unknown>;

/**
 * examples/producer, examples/consumer and examples/scheduled as a user runs
 * them: the plain Pulumi CLI (`stack init`, `config set`, `up`, `stack
 * output`, `stack export`, `refresh`, `destroy`) in each project folder, on
 * one local file backend, against the Upstash API emulator. The consumer
 * reads the producer through a StackReference.
 *
 * Each folder is a copy under `.pulumi-work/examples-XXXXXX/examples/<name>`
 * with `provider` linked beside `examples/` (see copyExample), so the stack
 * config files stay out of the repository while the examples' own files,
 * including `import … from "../../provider"`, run unchanged. The folder is
 * removed when every test passed.
 */
describe("example projects with the plain Pulumi CLI", function () {
  this.timeout(600_000);
  let emulator: UpstashEmulator;
  let user: PulumiUser;
  let workRoot: string;
  let producer: string;
  let consumer: string;
  let scheduled: string;
  /** Every credential the emulator issued to the Redis and QStash fixtures. */
  const issued: string[] = [];

  const currentRedis = () => emulator.data.redis.get(FIXTURE_IDS.redis)!;
  const outputs = (dir: string): Promise<Outputs> =>
    user.pulumiJson(dir, "stack", "output", "--json");
  const secretOutputs = (dir: string): Promise<Outputs> =>
    user.pulumiJson(dir, "stack", "output", "--json", "--show-secrets");
  const redisToken = (all: Outputs, name: string): string =>
    (all[name] as Record<string, string>).UPSTASH_REDIS_REST_TOKEN;

  /** `pulumi stack init` of `organization/<project>/dev`, with the management credentials. */
  async function initStack(dir: string, project: string, credentials: boolean): Promise<void> {
    await user.pulumi(dir, "stack", "init", `organization/${project}/dev`);
    if (!credentials) return;
    await user.setManagementCredentials(dir, emulator.data.account);
    const stackConfig = readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
    assert.match(stackConfig, /upstash:apiKey:\s+secure: /);
  }

  before(async () => {
    emulator = await startEmulator();
    workRoot = makeTempRoot("examples");
    user = emulatorUser(emulator, workRoot);
    producer = copyExample("producer", workRoot);
    consumer = copyExample("consumer", workRoot);
    scheduled = copyExample("scheduled", workRoot);
    await initStack(producer, "producer", true);
    await user.pulumi(producer, "config", "set", "databaseId", FIXTURE_IDS.redis);
    // The consumer creates no rotation: it needs no Upstash credentials.
    await initStack(consumer, "consumer", false);
    await user.pulumi(consumer, "config", "set", "producerStack", "organization/producer/dev");
    await initStack(scheduled, "scheduled", true);
  });
  after(async function () {
    await emulator?.close();
    finishWorkRoot(this.test?.parent, user, workRoot, "EXAMPLES_KEEP");
  });

  it("the consumer receives the producer's credentials through a StackReference, as secrets", async () => {
    await user.pulumi(producer, "up", "--yes");
    assert.strictEqual(emulator.rotations().length, 1);
    const last = await user.lastOperation(producer);
    assert.deepStrictEqual([last.kind, last.resourceChanges], ["update", { create: 2 }]);
    const produced = await outputs(producer);
    // The example's index.ts ran (not the package.json `main` of the repository).
    assert.deepStrictEqual(Object.keys(produced).sort(), ["redisEnv", "redisUrl", "rotatedAt"]);
    assert.strictEqual(produced.redisEnv, "[secret]");
    assert.strictEqual(produced.redisUrl, "[secret]");

    await user.pulumi(consumer, "up", "--yes");
    const read = await outputs(consumer);
    assert.deepStrictEqual(Object.keys(read).sort(), ["appEnv", "producerRotatedAt"]);
    assert.strictEqual(read.appEnv, "[secret]", "the StackReference output arrived in plaintext");
    assert.strictEqual(read.producerRotatedAt, produced.rotatedAt, "rotatedAt is not secret");
    const shown = await secretOutputs(consumer);
    assert.strictEqual(redisToken(shown, "appEnv"), currentRedis().rest_token);
    assert.strictEqual(emulator.rotations().length, 1, "reading the producer rotated");
    issued.push(currentRedis().rest_token, currentRedis().password);
  });

  it("after a rotation (an in-place update) the consumer gets the new credentials and the old ones are dead", async () => {
    const old = redisToken(await secretOutputs(consumer), "appEnv");
    emulator.log.length = 0;
    await user.pulumi(producer, "config", "set", "rotation", "2026-12");
    await user.pulumi(producer, "up", "--yes");
    assert.strictEqual(emulator.rotations().length, 1);
    const last = await user.lastOperation(producer);
    assert.deepStrictEqual(last.resourceChanges, { same: 1, update: 1 }, "not an update");

    await user.pulumi(consumer, "up", "--yes");
    assert.strictEqual((await outputs(consumer)).appEnv, "[secret]");
    const fresh = redisToken(await secretOutputs(consumer), "appEnv");
    assert.notStrictEqual(fresh, old);
    assert.strictEqual(fresh, currentRedis().rest_token);
    assert.strictEqual(await dataPlaneStatus(emulator.url, old), 401);
    assert.strictEqual(await dataPlaneStatus(emulator.url, fresh), 200);
    issued.push(currentRedis().rest_token, currentRedis().password);
  });

  it("pulumi refresh records a reset made behind Pulumi's back; the next up passes it on without a reset", async () => {
    const handedOut = redisToken(await secretOutputs(producer), "redisEnv");
    await resetOutsidePulumi(emulator);
    issued.push(currentRedis().rest_token, currentRedis().password);
    emulator.log.length = 0;

    await user.pulumi(producer, "refresh", "--yes");
    assert.strictEqual((await user.lastOperation(producer)).kind, "refresh");
    assert.strictEqual(emulator.rotations().length, 0, "refresh reset something");
    const state = (await exportedResources(user, producer)).find((r) => r.name === "cache");
    assert.strictEqual(state?.outputs.token, currentRedis().rest_token, "refresh missed the reset");
    // The refresh marked the outside change (the status output says so); the next up is an
    // update that passes the refreshed credentials on and clears the mark, with no reset.
    assert.match(String(state?.outputs.status), /changed outside Pulumi/);
    await user.pulumi(producer, "up", "--yes");
    assert.strictEqual(emulator.rotations().length, 0, "up after refresh reset something");
    assert.deepStrictEqual((await user.lastOperation(producer)).resourceChanges, {
      same: 1,
      update: 1,
    });
    const after = (await exportedResources(user, producer)).find((r) => r.name === "cache");
    assert.match(String(after?.outputs.status), /^Credentials current/);
    const live = redisToken(await secretOutputs(producer), "redisEnv");
    assert.notStrictEqual(live, handedOut);
    assert.strictEqual(live, currentRedis().rest_token);

    await user.pulumi(consumer, "up", "--yes");
    assert.strictEqual(redisToken(await secretOutputs(consumer), "appEnv"), live);
  });

  it("the scheduled example rotates once per window", async () => {
    emulator.log.length = 0;
    await user.pulumi(scheduled, "up", "--yes");
    const first = await outputs(scheduled);
    assert.deepStrictEqual(Object.keys(first).sort(), ["qstashToken", "rotationCount"]);
    assert.strictEqual(first.qstashToken, "[secret]");
    assert.strictEqual(first.rotationCount, 1);
    const token = (await secretOutputs(scheduled)).qstashToken as string;
    assert.strictEqual(token, emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token);
    issued.push(token);

    await user.pulumi(scheduled, "up", "--yes");
    assert.deepStrictEqual((await user.lastOperation(scheduled)).resourceChanges, { same: 2 });
    assert.strictEqual(emulator.rotations().length, 1, "a run inside the same window rotated");
  });

  it("pulumi stack export of each stack holds its secrets encrypted, none in plaintext", async () => {
    const secrets = [emulator.data.account.apiKey, ...issued];
    for (const dir of [producer, consumer, scheduled]) {
      const exported = (await user.pulumi(dir, "stack", "export")).stdout;
      assert.match(exported, /"ciphertext"/, `${path.basename(dir)}: no encrypted value`);
      assert.deepStrictEqual(
        secrets.filter((secret) => exported.includes(secret)),
        [],
        `pulumi stack export of ${path.basename(dir)} shows a secret in plaintext`,
      );
    }
  });

  it("destroy rotates once more where onDelete is rotate (scheduled), and not where it is keep (producer)", async () => {
    const qstashToken = issued[issued.length - 1];
    emulator.log.length = 0;
    await user.pulumi(scheduled, "destroy", "--yes");
    assert.strictEqual(emulator.rotations().length, 1, 'onDelete: "rotate" did not rotate');
    assert.strictEqual(await dataPlaneStatus(emulator.url, qstashToken), 401);
    issued.push(emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token);

    await user.pulumi(consumer, "destroy", "--yes");
    await user.pulumi(producer, "destroy", "--yes");
    const last = await user.lastOperation(producer);
    assert.deepStrictEqual([last.kind, last.resourceChanges], ["destroy", { delete: 2 }]);
    assert.strictEqual(emulator.rotations().length, 1, 'onDelete "keep" rotated');
    assert.strictEqual(await dataPlaneStatus(emulator.url, currentRedis().rest_token), 200);
  });

  it("no backend file, PULUMI_HOME file or stack config file holds a plaintext API key, password or token", () => {
    // Three Redis resets (two by Pulumi, one behind its back), two values each; two QStash tokens.
    assert.strictEqual(issued.length, 8);
    const secrets = [emulator.data.account.apiKey, ...issued];
    const hits = [
      ...filesContaining(user.backendDir, secrets),
      ...filesContaining(user.pulumiHome, secrets),
      ...[producer, consumer, scheduled]
        .flatMap((dir) => PulumiUser.stackConfigFiles(dir))
        .filter((file) => secrets.some((secret) => readFileSync(file, "utf8").includes(secret))),
    ];
    assert.deepStrictEqual(hits, []);
  });
});

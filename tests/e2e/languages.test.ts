import assert from "assert";
import { mkdirSync, writeFileSync } from "fs";
import path from "path";
import { setTimeout as sleep } from "timers/promises";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { addRedis } from "../../emulator/state";
import { ConsumerLoop } from "../helpers/consumerLoop";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import { pingStatus } from "../helpers/dataPlane";
import type { PulumiUser } from "../harness/pulumiCli";
import { emulatorUser, filesContaining, REPO_ROOT } from "../harness/pulumiHarness";
import { cliFailure, finishWorkRoot, STACK_TRACE } from "../harness/repoProject";
import { checkoutPlugin } from "../harness/pluginCheckout";
import { copyProject, makeTempRoot } from "../harness/tempProject";

type Outputs = Record<string, unknown>;
type Language = "yaml" | "python" | "go" | "typescript";

/** What the Go toolchain needs here: no checksum database, modules resolved as needed. */
const GO_ENV = { GOSUMDB: "off", GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" };

/**
 * The provider plugin as users of every Pulumi language take it: producer
 * projects in examples/languages/ (YAML, Python, Go, TypeScript through the
 * generated SDK), each installed with `pulumi package add <plugin folder>`
 * from a clean copy of the plugin, run with the plain CLI against the
 * emulator. A YAML consumer reads a Python producer through a StackReference.
 */
describe("the provider plugin in every language, plain Pulumi CLI", function () {
  this.timeout(1_800_000);
  let emulator: UpstashEmulator;
  let user: PulumiUser;
  let workRoot: string;
  let pluginDir: string;
  const projects: Partial<Record<Language, string>> = {};
  /** Every credential the emulator issued to the databases these stacks rotate. */
  const issued: string[] = [];
  /** The check failure each language printed for the same bad input. */
  const badInputMessages: Partial<Record<Language, string>> = {};

  const secretOutputs = (dir: string): Promise<Outputs> =>
    user.pulumiJson(dir, "stack", "output", "--json", "--show-secrets");
  const tokenIn = (outputs: Outputs): string =>
    (outputs.redisEnv as Record<string, string>).UPSTASH_REDIS_REST_TOKEN;
  const resetsOf = (databaseId: string): number =>
    emulator.rotations(new RegExp(`/reset-password/${databaseId}$`)).length;
  const remember = (databaseId: string) => {
    const db = emulator.data.redis.get(databaseId)!;
    issued.push(db.rest_token, db.password, db.read_only_rest_token);
  };

  /** Copies the example, creates its stack and adds the plugin, as the README says. */
  async function project(language: Language, stack = "dev"): Promise<string> {
    const dir =
      projects[language] ??
      copyProject(
        path.join(REPO_ROOT, "examples", "languages", language),
        path.join(workRoot, language),
      );
    await user.pulumi(dir, "stack", "init", `organization/rotation-${language}/${stack}`);
    if (!projects[language]) {
      if (language === "python" || language === "typescript") await user.pulumi(dir, "install");
      await user.pulumi(dir, "package", "add", pluginDir);
      projects[language] = dir;
    }
    return dir;
  }

  before(async () => {
    emulator = await startEmulator();
    workRoot = makeTempRoot("languages");
    user = emulatorUser(emulator, workRoot);
    // The plugin reads no provider config: management credentials come from the environment.
    Object.assign(user.env, GO_ENV, {
      UPSTASH_EMAIL: emulator.data.account.email,
      UPSTASH_API_KEY: emulator.data.account.apiKey,
    });
    pluginDir = checkoutPlugin(workRoot);
  });
  after(async function () {
    await emulator?.close();
    finishWorkRoot(this.test?.parent, user, workRoot, "LANGUAGES_KEEP");
  });

  /**
   * Create rotates once; a trigger bump is an in-place update with exactly one
   * reset; refresh records (and says so) a reset made outside Pulumi; destroy
   * with onDelete "rotate" kills what was handed out. No plaintext credential
   * reaches the backend or `pulumi stack export`.
   */
  async function producerLifecycle(language: Language): Promise<void> {
    const dir = await project(language);
    const databaseId = addRedis(emulator.data).database_id;
    await user.pulumi(dir, "config", "set", "databaseId", databaseId);

    await user.pulumi(dir, "up", "--yes");
    assert.strictEqual(resetsOf(databaseId), 1, "create did not reset exactly once");
    const shown = await user.pulumiJson<Outputs>(dir, "stack", "output", "--json");
    assert.strictEqual(shown.redisEnv, "[secret]");
    assert.strictEqual(shown.redisUrl, "[secret]");
    const first = tokenIn(await secretOutputs(dir));
    assert.strictEqual(first, emulator.data.redis.get(databaseId)!.rest_token);
    remember(databaseId);

    await user.pulumi(dir, "config", "set", "rotation", "r1");
    await user.pulumi(dir, "up", "--yes");
    const bump = await user.lastOperation(dir);
    assert.deepStrictEqual(bump.resourceChanges, { same: 1, update: 1 }, "not an in-place update");
    assert.strictEqual(resetsOf(databaseId), 2, "the trigger bump did not reset exactly once");
    const second = tokenIn(await secretOutputs(dir));
    assert.strictEqual(await pingStatus(emulator, first, databaseId), 401);
    assert.strictEqual(await pingStatus(emulator, second, databaseId), 200);
    remember(databaseId);

    await resetOutsidePulumi(emulator, databaseId);
    remember(databaseId);
    const refresh = await user.pulumi(dir, "refresh", "--yes");
    assert.match(refresh.stdout, /were reset outside Pulumi/, "refresh did not say what it found");
    // Stack outputs come from the program: the next `up` passes the recorded ones on.
    await user.pulumi(dir, "up", "--yes");
    const refreshed = tokenIn(await secretOutputs(dir));
    assert.strictEqual(refreshed, emulator.data.redis.get(databaseId)!.rest_token);
    assert.strictEqual(resetsOf(databaseId), 3, "refresh or the up after it reset the credentials");

    const exported = (await user.pulumi(dir, "stack", "export")).stdout;
    const leaked = issued.filter((secret) => exported.includes(secret));
    assert.deepStrictEqual(leaked.length, 0, "a plaintext credential in `pulumi stack export`");
    assert.deepStrictEqual(
      filesContaining(user.backendDir, issued),
      [],
      "a plaintext secret on disk",
    );

    await user.pulumi(dir, "destroy", "--yes");
    assert.strictEqual(resetsOf(databaseId), 4, 'onDelete "rotate" did not reset exactly once');
    assert.strictEqual(await pingStatus(emulator, refreshed, databaseId), 401);
    remember(databaseId);
  }

  /** The same bad input (a blank database id) in `language`: the check failure `preview` prints. */
  async function badInput(language: Language): Promise<string> {
    const dir = await project(language, "bad");
    await user.pulumi(dir, "config", "set", "databaseId", "  ");
    const output = await cliFailure(user.pulumi(dir, "preview"));
    assert.doesNotMatch(output, STACK_TRACE);
    const failure = /^.*target\.databaseId.*$/m.exec(output)?.[0].trim();
    assert.ok(failure, `no check failure for target.databaseId in:\n${output}`);
    await user.pulumi(dir, "stack", "rm", "--yes", "--force");
    return failure;
  }

  for (const language of ["yaml", "python", "go", "typescript"] as const) {
    it(`${language}: create, trigger bump, refresh and destroy rotate exactly as promised`, async () => {
      await producerLifecycle(language);
      badInputMessages[language] = await badInput(language);
    });
  }

  it("bad inputs give the same clear error in every language", () => {
    const messages = Object.values(badInputMessages);
    assert.strictEqual(messages.length, 4, "a language did not run");
    for (const message of messages) {
      assert.match(message, /target\.databaseId.*has a problem: must not be empty/);
    }
    assert.strictEqual(new Set(messages).size, 1, JSON.stringify(badInputMessages, null, 2));
  });

  it("a YAML consumer reads a Python producer's credentials through a StackReference, as secrets", async () => {
    const producer = await project("python", "shared");
    const databaseId = addRedis(emulator.data).database_id;
    await user.pulumi(producer, "config", "set", "databaseId", databaseId);
    await user.pulumi(producer, "up", "--yes");
    remember(databaseId);

    const consumer = copyProject(
      path.join(REPO_ROOT, "examples", "languages", "yaml-consumer"),
      path.join(workRoot, "yaml-consumer"),
    );
    await user.pulumi(consumer, "stack", "init", "organization/rotation-yaml-consumer/dev");
    await user.pulumi(
      consumer,
      "config",
      "set",
      "producerStack",
      "organization/rotation-python/shared",
    );
    await user.pulumi(consumer, "up", "--yes");
    const read = await user.pulumiJson<Outputs>(consumer, "stack", "output", "--json");
    assert.strictEqual(read.appEnv, "[secret]", "the StackReference output arrived in plaintext");
    const received = (await secretOutputs(consumer)).appEnv as Record<string, string>;
    assert.strictEqual(
      received.UPSTASH_REDIS_REST_TOKEN,
      emulator.data.redis.get(databaseId)!.rest_token,
    );
    assert.deepStrictEqual(
      filesContaining(user.backendDir, issued),
      [],
      "a plaintext secret on disk",
    );
    await user.pulumi(consumer, "destroy", "--yes");
    await user.pulumi(producer, "destroy", "--yes");
  });

  it("python, ACL user: a consumer loop has 0 failed requests across three rotations", async () => {
    const dir = await project("python", "acl");
    const databaseId = addRedis(emulator.data).database_id;
    await user.pulumi(dir, "config", "set", "databaseId", databaseId);
    await user.pulumi(dir, "config", "set", "user", "app");
    await user.pulumi(dir, "up", "--yes");
    const loop = new ConsumerLoop(emulator, databaseId);
    const tokens = [tokenIn(await secretOutputs(dir))];
    loop.use(tokens[0]);
    loop.start();
    try {
      for (let rotation = 1; rotation <= 3; rotation++) {
        await user.pulumi(dir, "config", "set", "rotation", `acl-${rotation}`);
        await user.pulumi(dir, "up", "--yes");
        await sleep(200); // the application keeps running on its old token for a while
        tokens.push(tokenIn(await secretOutputs(dir)));
        loop.use(tokens[rotation]);
        await sleep(200);
      }
    } finally {
      await loop.stop();
    }
    console.log(
      `      ACL consumer loop (python producer): ${loop.failed} failed of ${loop.requests} requests`,
    );
    assert.ok(loop.requests > 50, `the loop made only ${loop.requests} requests`);
    assert.strictEqual(loop.failed, 0, `${loop.failed} of ${loop.requests} requests failed`);
    assert.strictEqual(resetsOf(databaseId), 0, "the database's own credentials were reset");
    assert.deepStrictEqual(
      await Promise.all(tokens.map((token) => pingStatus(emulator, token, databaseId))),
      [401, 401, 200, 200],
    );
    await user.pulumi(dir, "destroy", "--yes");
  });

  it("the nodejs, python and go SDKs generate from the plugin and compile", async () => {
    const sdks = path.join(workRoot, "sdks");
    for (const language of ["nodejs", "python", "go"]) {
      await user.pulumi(
        workRoot,
        "package",
        "gen-sdk",
        pluginDir,
        "--language",
        language,
        "--out",
        sdks,
      );
    }
    // TypeScript: the repository's own compiler and @pulumi/pulumi, found from .pulumi-work/.
    await user.run(path.join(sdks, "nodejs"), "npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]);
    await user.run(sdks, "python3", ["-m", "compileall", "-q", "python"]);
    const goSdk = path.join(sdks, "go");
    mkdirSync(goSdk, { recursive: true });
    writeFileSync(
      path.join(goSdk, "go.mod"),
      // gen-sdk writes the `upstashrotation` package itself (with internal/) into go/.
      "module github.com/upstash-rotation/pulumi-upstash-rotation/sdk/go/upstashrotation\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 v3.248.0\n",
    );
    await user.run(goSdk, "go", ["build", "./..."]);
    await user.run(goSdk, "go", ["vet", "./..."]);
  });
});

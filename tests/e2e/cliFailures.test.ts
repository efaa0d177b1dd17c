import assert from "assert";
import path from "path";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { emulatorUser } from "../harness/pulumiHarness";
import { PulumiUser } from "../harness/pulumiCli";
import {
  cliFailure,
  exportedResources,
  finishWorkRoot,
  STACK_TRACE,
  writeProject,
} from "../harness/repoProject";
import { makeTempRoot } from "../harness/tempProject";

/** Like program.ts: one rotation per emulator fixture, all bumped by config `trigger`. */
const FOUR_TARGETS = `import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "@provider";

const config = new pulumi.Config();
const trigger = config.require("trigger");
const redis = new CredentialRotation("redis", {
  target: { type: "redis", databaseId: "${FIXTURE_IDS.redis}" },
  trigger,
});
const vector = new CredentialRotation("vector", {
  target: { type: "vector", indexId: "${FIXTURE_IDS.vector}" },
  trigger,
});
const search = new CredentialRotation("search", {
  target: { type: "search", indexId: "${FIXTURE_IDS.search}" },
  trigger,
});
const qstash = new CredentialRotation("qstash", {
  target: { type: "qstash" },
  trigger,
  onDelete: "rotate",
});

export const redisEnv = redis.env;
export const vectorEnv = vector.env;
export const searchEnv = search.env;
export const qstashEnv = qstash.env;
`;

/** One rotation whose target is config `target` (JSON) as given, however wrong. */
const ONE_TARGET = `import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation, type CredentialRotationArgs } from "@provider";

const config = new pulumi.Config();
new CredentialRotation("bad", {
  target: config.requireObject<CredentialRotationArgs["target"]>("target"),
});
`;

/**
 * The failure cases of failures.test.ts as a user meets them: the plain
 * Pulumi CLI in a project folder (`.pulumi-work/cli-failures-XXXXXX/`, removed
 * when every test passed), with the faults switched on in the emulator while
 * `pulumi up` runs. The projects import the repository's provider/ by a
 * relative path and resolve `@pulumi/pulumi` from its node_modules: no install.
 */
describe("failures through the plain Pulumi CLI in a project folder", function () {
  this.timeout(600_000);
  let emulator: UpstashEmulator;
  let user: PulumiUser;
  let workRoot: string;

  const configureCredentials = async (dir: string): Promise<void> => {
    await user.setManagementCredentials(dir, emulator.data.account);
  };

  before(async () => {
    emulator = await startEmulator();
    workRoot = makeTempRoot("cli-failures");
    user = emulatorUser(emulator, workRoot);
  });
  after(async function () {
    await emulator?.close();
    finishWorkRoot(this.test?.parent, user, workRoot, "CLI_FAILURES_KEEP");
  });

  describe("faults during pulumi up", () => {
    let dir: string;
    let run = 0;

    const bumpTrigger = () => user.pulumi(dir, "config", "set", "trigger", `run-${++run}`);
    // The preview half of `pulumi up` makes no API call (check and diff are local), so the
    // runs with faults skip it: the same update, at half the program start-ups.
    const up = () => user.pulumi(dir, "up", "--yes", "--skip-preview");
    const secretOutputs = async () =>
      user.pulumiJson<Record<string, Record<string, string>>>(
        dir,
        "stack",
        "output",
        "--json",
        "--show-secrets",
      );

    /** The rotation resources in state, with their stored credentials. */
    async function recordedRotations(): Promise<
      { name: string; token?: unknown; password?: unknown }[]
    > {
      return (await exportedResources(user, dir))
        .filter((resource) => resource.type.endsWith(":CredentialRotation"))
        .map(({ name, outputs }) => ({ name, token: outputs.token, password: outputs.password }))
        .sort((a, b) => a.name.localeCompare(b.name)); // a failed update may reorder state
    }

    /** Every credential in state is live: nothing dead survives a failed run. */
    async function assertStateHoldsOnlyLiveCredentials(): Promise<void> {
      for (const rotation of await recordedRotations()) {
        for (const value of [rotation.token, rotation.password]) {
          if (value !== undefined) {
            assert.ok(
              emulator.isCurrentCredential(value as string),
              `${rotation.name} holds a dead credential`,
            );
          }
        }
      }
    }

    before(async () => {
      dir = writeProject(path.join(workRoot, "four-targets"), "cli-faults", FOUR_TARGETS);
      await user.pulumi(dir, "stack", "init", "organization/cli-faults/faults");
      await configureCredentials(dir);
      await bumpTrigger();
      await user.pulumi(dir, "up", "--yes");
      assert.strictEqual(emulator.rotations().length, 4);
      const outputs = await secretOutputs();
      // The project's index.ts ran (not the repository's package.json `main`).
      assert.deepStrictEqual(Object.keys(outputs).sort(), [
        "qstashEnv",
        "redisEnv",
        "searchEnv",
        "vectorEnv",
      ]);
    });
    beforeEach(() => {
      emulator.log.length = 0;
      emulator.faults = [];
      emulator.rateLimitPerSecond = 0;
      delete user.env.UPSTASH_API_MAX_ATTEMPTS;
      delete user.env.UPSTASH_LATE_LANDING_WINDOW_MS;
    });
    after(async () => {
      delete user.env.UPSTASH_API_MAX_ATTEMPTS;
      delete user.env.UPSTASH_LATE_LANDING_WINDOW_MS;
      emulator.faults = [];
      emulator.rateLimitPerSecond = 0;
      if (dir) await user.pulumi(dir, "destroy", "--yes").catch(() => undefined);
    });

    it("a 429 storm and gateway 503s on the resets that land a second later: up succeeds with one reset per target", async () => {
      emulator.rateLimitPerSecond = 3;
      emulator.faults = [
        { kind: "status", status: 429, times: 3, method: "POST", body: '{"error":"slow down"}' },
        {
          kind: "status",
          status: 503,
          landsAfterMs: 1000,
          times: 3,
          method: "POST",
          path: "reset|rotate",
        },
      ];
      await bumpTrigger();
      await up();
      const last = await user.lastOperation(dir);
      assert.deepStrictEqual([last.result, last.resourceChanges?.update], ["succeeded", 4]);
      assert.strictEqual(emulator.rotations().length, 4);
      assert.ok(emulator.log.filter((entry) => entry.status === 429).length >= 3);
      assert.ok(emulator.log.some((entry) => entry.status === 503));
      await assertStateHoldsOnlyLiveCredentials();
    });

    it("a read-back that keeps failing after the reset ends in a clear error; refresh records the live credentials", async () => {
      user.env.UPSTASH_API_MAX_ATTEMPTS = "2";
      // `after: 1`: the reading taken before the reset goes through; the read-back fails.
      emulator.faults = [
        { kind: "status", status: 500, method: "GET", path: "/v2/vector/", after: 1 },
      ];
      await bumpTrigger();
      const message = await cliFailure(up(), user.commands);
      console.log(
        `      the CLI said: ${message
          .split("\n")
          .find((line) => line.includes("were rotated"))
          ?.trim()}`,
      );
      assert.match(message, /Vector index .* were rotated \(the previous ones no longer work\)/);
      assert.match(message, /pulumi refresh/);
      assert.doesNotMatch(message, STACK_TRACE);
      assert.strictEqual(emulator.rotations(/\/v2\/vector\//).length, 1);
      const failedRun = emulator.rotations().map((entry) => entry.path);
      await assertStateHoldsOnlyLiveCredentials();

      emulator.faults = [];
      emulator.log.length = 0;
      await user.pulumi(dir, "refresh", "--yes");
      const vector = (await recordedRotations()).find((r) => r.name === "vector");
      assert.strictEqual(vector?.token, emulator.data.vector.get(FIXTURE_IDS.vector)!.token);
      await assertStateHoldsOnlyLiveCredentials();
      assert.strictEqual(emulator.rotations().length, 0, "refresh reset something");

      await up();
      const nextRun = emulator.rotations().map((entry) => entry.path);
      assert.strictEqual(failedRun.length + nextRun.length, 4, "some target was reset twice");
      assert.ok(!nextRun.some((entry) => entry.includes("/vector/")), "vector was reset again");
      assert.strictEqual(
        (await secretOutputs()).vectorEnv.UPSTASH_VECTOR_REST_TOKEN,
        vector?.token,
      );
    });

    it("after the same failure, a plain up reads the live credentials without resetting", async () => {
      user.env.UPSTASH_API_MAX_ATTEMPTS = "1";
      emulator.faults = [
        { kind: "status", status: 503, method: "GET", path: "/v2/search/", after: 1 },
      ];
      await bumpTrigger();
      await cliFailure(up(), user.commands);
      // The engine stops starting updates after the first failure, so some targets may not have run.
      const failedRun = emulator.rotations().map((entry) => entry.path);
      assert.ok(failedRun.includes(`/v2/search/${FIXTURE_IDS.search}/reset-password`));

      emulator.faults = [];
      emulator.log.length = 0;
      await up();
      const nextRun = emulator.rotations().map((entry) => entry.path);
      assert.strictEqual(failedRun.length + nextRun.length, 4, "some target was reset twice");
      assert.deepStrictEqual(
        nextRun.filter((entry) => failedRun.includes(entry)),
        [],
        "a target whose reset went through was reset again",
      );
      assert.strictEqual(
        (await secretOutputs()).searchEnv.UPSTASH_SEARCH_REST_TOKEN,
        emulator.data.search.get(FIXTURE_IDS.search)!.token,
      );
      await assertStateHoldsOnlyLiveCredentials();
    });

    it("an Upstash outage fails the run with the status named, no stack trace and no dead credential kept; once it is over, the next up resets each target once", async () => {
      emulator.faults = [{ kind: "status", status: 503, method: "POST" }];
      user.env.UPSTASH_API_MAX_ATTEMPTS = "2";
      // How long the next up waits for a reset the gateway may still deliver (2 minutes by default).
      user.env.UPSTASH_LATE_LANDING_WINDOW_MS = "4000";
      await bumpTrigger();
      const message = await cliFailure(up(), user.commands);
      console.log(
        `      the CLI said: ${message
          .split("\n")
          .find((line) => line.includes("503"))
          ?.trim()}`,
      );
      assert.match(message, /503/);
      // A 503 may come from a gateway while the reset still lands: it is never sent twice.
      assert.match(message, /not sent again blindly/);
      assert.match(message, /A run before \S+ first waits until then/);
      assert.doesNotMatch(message, STACK_TRACE);
      assert.strictEqual(emulator.rotations().length, 0);
      const last = await user.lastOperation(dir);
      assert.deepStrictEqual([last.kind, last.result], ["update", "failed"]);
      await assertStateHoldsOnlyLiveCredentials();

      emulator.faults = [];
      await up();
      assert.strictEqual(emulator.rotations().length, 4, "not one reset per target");
      await assertStateHoldsOnlyLiveCredentials();
    });
  });

  /** Bad inputs are caught by `check`, so `pulumi preview` fails before any API call. */
  describe("bad inputs through pulumi preview", () => {
    let dir: string;

    before(() => {
      dir = writeProject(path.join(workRoot, "one-target"), "cli-bad-inputs", ONE_TARGET);
    });

    /** A new stack whose `target` is `target`, and the output of its failing `pulumi preview`. */
    async function previewFailure(
      stack: string,
      target: unknown,
      configureCredentialsToo = true,
    ): Promise<string> {
      await user.pulumi(dir, "stack", "init", `organization/cli-bad-inputs/${stack}`);
      if (configureCredentialsToo) await configureCredentials(dir);
      await user.pulumi(dir, "config", "set", "target", JSON.stringify(target));
      emulator.log.length = 0;
      const message = await cliFailure(user.pulumi(dir, "preview"), user.commands);
      assert.doesNotMatch(message, STACK_TRACE, "the failure carries a stack trace");
      assert.strictEqual(emulator.log.length, 0, "preview called the API");
      return message;
    }

    it("names target.type for a target type that does not exist", async () => {
      const message = await previewFailure("unknown-type", {
        type: "memcached",
        databaseId: FIXTURE_IDS.redis,
      });
      assert.match(message, /target\.type.*"redis", "vector", "search" or "qstash"/);
    });

    it("names target.databaseId when a Redis target has no id", async () => {
      const message = await previewFailure("missing-id", { type: "redis" });
      assert.match(message, /target\.databaseId.*is required/);
    });

    it("names the credentials when none are configured anywhere", async () => {
      const message = await previewFailure(
        "no-credentials",
        { type: "redis", databaseId: FIXTURE_IDS.redis },
        false,
      );
      assert.match(message, /apiKey.*No Upstash management credentials/);
    });
  });
});

import assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { CredentialRotation, type CredentialRotationArgs } from "../../provider";
import { localStack, projectProgram, REPO_ROOT } from "../../scripts/pulumiHarness";

// The engine's key marking a secret value in serialized properties.
const SECRET_SIG = pulumi.runtime.specialSigKey;
const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

/** A secret in an exported deployment (`--show-secrets`) holds its value as JSON text. */
function reveal(value: unknown): unknown {
  if (value && typeof value === "object" && SECRET_SIG in value) {
    return JSON.parse((value as unknown as { plaintext: string }).plaintext) as unknown;
  }
  return value;
}

/** The rotation resources recorded in the stack's state, with their stored outputs. */
async function recordedRotations(
  stack: Stack,
): Promise<{ name: string; token?: string; password?: string }[]> {
  const exported = await stack.exportStack();
  const resources = (exported.deployment as { resources?: Record<string, unknown>[] }).resources;
  return (resources ?? [])
    .filter((resource) => String(resource.type).includes("CredentialRotation"))
    .map((resource) => {
      const outputs = (resource.outputs ?? {}) as Record<string, unknown>;
      return {
        name: String(resource.urn).split("::").pop() ?? "",
        token: reveal(outputs.token) as string | undefined,
        password: reveal(outputs.password) as string | undefined,
      };
    });
}

async function upError(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail("the operation succeeded but was expected to fail");
}

/** Faults during `up` of the root program (one rotation per target type). */
describe("faults during up, through the Pulumi engine", function () {
  this.timeout(300_000);
  let emulator: UpstashEmulator;
  let stack: Stack;
  let run = 0;

  const bumpTrigger = () => stack.setConfig("trigger", { value: `run-${++run}` });

  /** Every credential in state is live: nothing dead survives a failed run. */
  async function assertStateHoldsOnlyLiveCredentials(): Promise<void> {
    for (const rotation of await recordedRotations(stack)) {
      for (const value of [rotation.token, rotation.password]) {
        if (value !== undefined) {
          assert.ok(
            emulator.isCurrentCredential(value),
            `${rotation.name} holds a dead credential`,
          );
        }
      }
    }
  }

  before(async () => {
    emulator = await startEmulator();
    ({ stack } = await localStack({
      emulator,
      projectName: "upstash-credential-rotation",
      stackName: "faults",
      program: projectProgram(REPO_ROOT),
    }));
    await bumpTrigger();
    await stack.up();
    assert.strictEqual(emulator.rotations().length, 4);
  });
  beforeEach(() => {
    emulator.log.length = 0;
    emulator.faults = [];
    emulator.rateLimitPerSecond = 0;
    delete stack.workspace.envVars.UPSTASH_API_MAX_ATTEMPTS;
  });
  after(async () => {
    await stack?.destroy().catch(() => undefined);
    await emulator?.close();
  });

  it("a 429 storm and 503s on the resets: up succeeds with one reset per target", async () => {
    emulator.rateLimitPerSecond = 3;
    emulator.faults = [
      { kind: "status", status: 429, times: 3, method: "POST", body: '{"error":"slow down"}' },
      { kind: "status", status: 503, times: 3, method: "POST", path: "reset|rotate" },
    ];
    await bumpTrigger();
    const up = await stack.up();
    assert.strictEqual(up.summary.resourceChanges?.update, 4);
    assert.strictEqual(emulator.rotations().length, 4);
    assert.ok(emulator.log.filter((entry) => entry.status === 429).length >= 3);
    assert.ok(emulator.log.some((entry) => entry.status === 503));
    await assertStateHoldsOnlyLiveCredentials();
  });

  it("a read-back that keeps failing after the reset ends in a clear error; refresh records the live credentials", async () => {
    stack.workspace.envVars.UPSTASH_API_MAX_ATTEMPTS = "2";
    // `after: 1`: the reading taken before the reset goes through; the read-back fails.
    emulator.faults = [
      { kind: "status", status: 500, method: "GET", path: "/v2/vector/", after: 1 },
    ];
    await bumpTrigger();
    const message = await upError(stack.up());
    console.log(
      `      engine said: ${message
        .split("\n")
        .find((l) => l.includes("were rotated"))
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
    await stack.refresh();
    const vector = (await recordedRotations(stack)).find((r) => r.name === "vector");
    assert.strictEqual(vector?.token, emulator.data.vector.get(FIXTURE_IDS.vector)!.token);
    await assertStateHoldsOnlyLiveCredentials();
    assert.strictEqual(emulator.rotations().length, 0, "refresh reset something");
    const up = await stack.up();
    const nextRun = emulator.rotations().map((entry) => entry.path);
    assert.strictEqual(failedRun.length + nextRun.length, 4, "some target was reset twice");
    assert.ok(!nextRun.some((entry) => entry.includes("/vector/")), "vector was reset again");
    assert.strictEqual(up.outputs.vectorEnv.value.UPSTASH_VECTOR_REST_TOKEN, vector?.token);
  });

  it("after the same failure, a plain up reads the live credentials without resetting", async () => {
    stack.workspace.envVars.UPSTASH_API_MAX_ATTEMPTS = "1";
    emulator.faults = [
      { kind: "status", status: 503, method: "GET", path: "/v2/search/", after: 1 },
    ];
    await bumpTrigger();
    await upError(stack.up());
    // The engine stops starting updates after the first failure, so some targets may not have run.
    const failedRun = emulator.rotations().map((entry) => entry.path);
    assert.ok(failedRun.includes(`/v2/search/${FIXTURE_IDS.search}/reset-password`));

    emulator.faults = [];
    emulator.log.length = 0;
    const up = await stack.up();
    const nextRun = emulator.rotations().map((entry) => entry.path);
    assert.strictEqual(failedRun.length + nextRun.length, 4, "some target was reset twice");
    assert.deepStrictEqual(
      nextRun.filter((entry) => failedRun.includes(entry)),
      [],
      "a target whose reset went through was reset again",
    );
    assert.strictEqual(
      up.outputs.searchEnv.value.UPSTASH_SEARCH_REST_TOKEN,
      emulator.data.search.get(FIXTURE_IDS.search)!.token,
    );
    await assertStateHoldsOnlyLiveCredentials();
  });

  it("an Upstash outage fails the run with the status named and leaves state as it was", async () => {
    const before = await recordedRotations(stack);
    emulator.faults = [{ kind: "status", status: 503, method: "POST" }];
    stack.workspace.envVars.UPSTASH_API_MAX_ATTEMPTS = "2";
    await bumpTrigger();
    const message = await upError(stack.up());
    assert.match(message, /503/);
    assert.doesNotMatch(message, STACK_TRACE);
    assert.strictEqual(emulator.rotations().length, 0);
    assert.deepStrictEqual(await recordedRotations(stack), before);
  });
});

/** Bad inputs are caught by `check`, so `pulumi preview` fails before any API call. */
describe("bad inputs through pulumi preview", function () {
  this.timeout(300_000);
  let emulator: UpstashEmulator;
  let args: CredentialRotationArgs;
  const program = async () => {
    new CredentialRotation("bad", args);
  };

  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator?.close();
  });

  async function previewFailure(configureCredentials = true): Promise<string> {
    const { stack } = await localStack({
      emulator,
      projectName: "bad-inputs",
      stackName: configureCredentials ? "configured" : "unconfigured",
      program,
      configureCredentials,
    });
    const message = await upError(stack.preview());
    assert.doesNotMatch(message, STACK_TRACE, "the failure carries a stack trace");
    assert.strictEqual(emulator.log.length, 0, "preview called the API");
    return message;
  }

  it("names target.type for a target type that does not exist", async () => {
    args = { target: { type: "memcached", databaseId: FIXTURE_IDS.redis } as never };
    assert.match(await previewFailure(), /target\.type.*"redis", "vector", "search" or "qstash"/);
  });

  it("names target.databaseId when a Redis target has no id", async () => {
    args = { target: { type: "redis" } as never };
    assert.match(await previewFailure(), /target\.databaseId.*is required/);
  });

  it("names the credentials when none are configured anywhere", async () => {
    args = { target: { type: "redis", databaseId: FIXTURE_IDS.redis } };
    assert.match(await previewFailure(false), /apiKey.*No Upstash management credentials/);
  });
});

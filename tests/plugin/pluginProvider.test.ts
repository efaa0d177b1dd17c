import assert from "assert";
import path from "path";
import type * as provider from "@pulumi/pulumi/provider";
import { isSecretValue, secretValue } from "../../provider/common";
import { checkInputs } from "../../provider/inputs";
import { notify, withNotices, type NoticeSeverity } from "../../provider/notices";
import { engineLogSink } from "../../provider/plugin/engineLog";
import { rotationPluginProvider } from "../../provider/plugin/provider";
import { generateSchema, RESOURCE_TOKEN } from "../../provider/plugin/schema";
import { FIXTURE_IDS } from "../../emulator/state";
import { asAdmin } from "../helpers/dataPlane";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import { useEmulator } from "../helpers/emulator";
import { REPO_ROOT } from "../harness/pulumiHarness";

type Spec = Record<string, unknown>;

const schema = generateSchema(path.join(REPO_ROOT, "provider"), "0.0.0-test");
const resource = (schema.resources as Record<string, Spec>)[RESOURCE_TOKEN];
const types = schema.types as Record<string, { properties: Record<string, Spec> }>;
const URN = `urn:pulumi:dev::app::${RESOURCE_TOKEN}::cache`;

/** Whether a value holds `undefined` anywhere: the engine's Struct refuses it. */
function holdsUndefined(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value)) return value.some(holdsUndefined);
  if (value && typeof value === "object") return Object.values(value).some(holdsUndefined);
  return false;
}

describe("plugin schema: generated from the TypeScript declarations", () => {
  it("offers every input the checks accept, and each target type's fields exactly", () => {
    const inputs = Object.keys(resource.inputProperties as Spec).sort();
    assert.deepStrictEqual(inputs, [
      "apiKey",
      "email",
      "minRollInterval",
      "onDelete",
      "revokeAllOn",
      "target",
      "trigger",
      "verify",
    ]);
    assert.deepStrictEqual(resource.requiredInputs, ["target"]);
    const mapping = (
      (resource.inputProperties as Record<string, Spec>).target.discriminator as {
        mapping: Record<string, string>;
      }
    ).mapping;
    assert.deepStrictEqual(Object.keys(mapping).sort(), [
      "qstash",
      "qstash-signing-keys",
      "redis",
      "search",
      "vector",
    ]);
    for (const [kind, ref] of Object.entries(mapping)) {
      const fields = Object.keys(types[ref.replace("#/types/", "")].properties);
      // Every field the schema offers for this kind passes the checks (an ACL user needs `user`).
      const target = Object.fromEntries(
        fields.map((field) => [
          field,
          field === "type" ? kind : field === "rules" ? ["~app:*", "+@read"] : "some-id",
        ]),
      );
      const { failures } = checkInputs({ target, email: "dev@example.com", apiKey: "key" });
      assert.deepStrictEqual(failures, [], `${kind}: ${JSON.stringify(failures)}`);
    }
  });

  it("marks every credential input and output secret, and nothing else", () => {
    const secretOf = (properties: unknown) =>
      Object.entries(properties as Record<string, Spec>)
        .filter(([, spec]) => spec.secret === true)
        .map(([name]) => name)
        .sort();
    assert.deepStrictEqual(secretOf(resource.inputProperties), ["apiKey", "email"]);
    assert.deepStrictEqual(secretOf(resource.properties), [
      "currentSigningKey",
      "env",
      "nextSigningKey",
      "password",
      "readOnlyToken",
      "redisUrl",
      "token",
    ]);
  });

  it("promises only the outputs that every state holds, failed and signing-key states included", () => {
    assert.deepStrictEqual([...(resource.required as string[])].sort(), [
      "onDelete",
      "resourceId",
      "rotatedAt",
      "rotationCount",
      "target",
      "trigger",
    ]);
  });

  it("describes every property, as the TypeScript JSDoc does", () => {
    for (const [name, spec] of Object.entries({
      ...(resource.inputProperties as Record<string, Spec>),
      ...(resource.properties as Record<string, Spec>),
    })) {
      assert.ok(typeof spec.description === "string" && spec.description.length > 10, name);
      assert.doesNotMatch(spec.description as string, /\{@link/, name);
    }
  });
});

/** The fixture database's inputs as the engine sends them, with `trigger`. */
const redisInputs = (trigger: string) => ({
  target: { type: "redis", databaseId: FIXTURE_IDS.redis },
  trigger,
  onDelete: "keep",
});

describe("plugin provider: the same operations behind the engine's wire format", () => {
  const suite = useEmulator();
  const notices: { urn: string; severity: NoticeSeverity; message: string }[] = [];
  const plugin: provider.Provider = rotationPluginProvider({
    version: "0.0.0-test",
    schema: async () => JSON.stringify(schema),
    logTo: (urn) => (severity, message) => {
      notices.push({ urn, severity, message });
    },
  });

  it("check unwraps secret inputs to validate them and hands them back as secrets", async () => {
    const { inputs, failures } = await plugin.check!(
      URN,
      {},
      {
        target: { type: "redis", databaseId: ` ${FIXTURE_IDS.redis} ` },
        email: secretValue(suite.emulator.data.account.email),
        apiKey: secretValue(` ${suite.emulator.data.account.apiKey}\n`),
        trigger: secretValue({ month: "2026-12" }),
      },
    );
    assert.deepStrictEqual(failures, []);
    assert.ok(
      isSecretValue(inputs.apiKey) && isSecretValue(inputs.email) && isSecretValue(inputs.trigger),
    );
    assert.strictEqual(inputs.apiKey.value, suite.emulator.data.account.apiKey, "not trimmed");
    assert.strictEqual(inputs.target.databaseId, FIXTURE_IDS.redis);
    assert.strictEqual(inputs.onDelete, "keep");
  });

  it("check names the property and never echoes a secret value", async () => {
    const { failures } = await plugin.check!(
      URN,
      {},
      {
        target: { type: "redis", databaseId: secretValue("   ") },
        apiKey: secretValue("AKIA-pasted-into-the-wrong-field"),
      },
    );
    assert.ok(failures?.some((failure) => failure.property === "target.databaseId"));
    assert.doesNotMatch(JSON.stringify(failures), /AKIA/);
  });

  it("create, update and read return credentials as secrets, with nothing undefined", async () => {
    const inputs = redisInputs("a");
    const created = await plugin.create!(URN, inputs);
    assert.strictEqual(created.id, `redis/${FIXTURE_IDS.redis}`);
    const outs = created.outs as Record<string, unknown>;
    for (const name of ["token", "readOnlyToken", "password", "redisUrl", "env"]) {
      assert.ok(isSecretValue(outs[name]), `${name} is not secret`);
    }
    assert.strictEqual(typeof outs.restUrl, "string");
    assert.ok(!holdsUndefined(outs));
    const db = suite.emulator.data.redis.get(FIXTURE_IDS.redis)!;
    assert.strictEqual((outs.token as { value: string }).value, db.rest_token);

    const updated = await plugin.update!(created.id, URN, outs, { ...inputs, trigger: "b" });
    const after = updated.outs as Record<string, { value: string }>;
    assert.notStrictEqual(after.token.value, (outs.token as { value: string }).value);
    assert.strictEqual(
      after.token.value,
      suite.emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token,
    );
    assert.strictEqual(after.rotationCount as unknown, 2);
    assert.strictEqual(
      (await plugin.diff!(created.id, URN, after, { ...inputs, trigger: "b" })).changes,
      false,
    );

    notices.length = 0;
    const read = await plugin.read!(created.id, URN, after);
    assert.deepStrictEqual(notices, [], "an unchanged refresh said something");
    assert.ok(!holdsUndefined(read.props));
    assert.ok(isSecretValue((read.props as Record<string, unknown>).token));
  });

  it("a refresh that finds the credentials reset elsewhere says so in the engine's log", async () => {
    const inputs = redisInputs("c");
    const created = await plugin.create!(URN, inputs);
    await resetOutsidePulumi(suite.emulator);
    notices.length = 0;
    const read = await plugin.read!(created.id, URN, created.outs);
    assert.strictEqual(notices.length, 1);
    assert.strictEqual(notices[0].urn, URN);
    assert.strictEqual(notices[0].severity, "warning");
    assert.match(notices[0].message, /reset outside Pulumi/);
    const live = suite.emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token;
    assert.strictEqual(
      ((read.props as Record<string, unknown>).token as { value: string }).value,
      live,
    );
    assert.ok(!notices[0].message.includes(live), "a notice carried a credential");
  });

  it("a partial failure records its state with credentials and secret inputs concealed", async () => {
    const inputs = {
      target: { type: "vector", indexId: FIXTURE_IDS.vector },
      trigger: secretValue("t1"),
      onDelete: "keep",
    };
    const created = await plugin.create!(URN, inputs);
    suite.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, { reject: "unauthorized" });
    try {
      const error = await plugin.update!(created.id, URN, created.outs, {
        ...inputs,
        trigger: secretValue("t2"),
      }).then(
        () => assert.fail("the update succeeded although the data plane rejected the new token"),
        (failure: unknown) =>
          failure as Error & { id?: string; properties?: Record<string, unknown> },
      );
      assert.match(error.message, /rejected the new credential/);
      assert.strictEqual(error.id, created.id);
      const recorded = error.properties!;
      assert.strictEqual(recorded.token, undefined, "a rejected credential was handed out");
      assert.ok(isSecretValue(recorded.trigger), "the secret trigger was recorded in plaintext");
      assert.ok(isSecretValue(recorded.pendingRotation));
      assert.ok(!holdsUndefined(recorded));
    } finally {
      suite.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, {});
    }
  });

  it("a value given as a secret is never quoted in an error, and a secret target keeps its id secret", async () => {
    const pasted = "AKIA-a-token-pasted-as-an-id";
    const failure = await plugin.create!(URN, {
      target: { type: "redis", databaseId: secretValue(pasted) },
      onDelete: "keep",
    }).then(
      () => assert.fail("created a rotation for a database that does not exist"),
      (error: unknown) => error as Error,
    );
    assert.match(failure.message, /\[secret\]/);
    assert.ok(!failure.message.includes(pasted), failure.message);

    const created = await plugin.create!(URN, {
      target: secretValue({ type: "redis", databaseId: FIXTURE_IDS.redis }),
      onDelete: "keep",
    });
    const outs = created.outs as Record<string, unknown>;
    assert.ok(isSecretValue(outs.target) && isSecretValue(outs.resourceId));
  });

  it("an ACL password removed outside Pulumi: refresh warns and drops it, the healing up says why", async () => {
    const target = { type: "redis", databaseId: FIXTURE_IDS.redis, user: "healed" };
    const created = await plugin.create!(URN, { target, onDelete: "keep" });
    await asAdmin(suite.emulator, ["ACL", "SETUSER", "healed", "resetpass"]);
    notices.length = 0;
    const read = await plugin.read!(created.id, URN, created.outs);
    assert.strictEqual(notices.length, 1, JSON.stringify(notices));
    assert.match(
      notices[0].message,
      /removed outside Pulumi.*next `pulumi up` issues a new password/,
    );
    const dropped = read.props as Record<string, unknown>;
    assert.strictEqual(dropped.token, undefined);
    notices.length = 0;
    const healed = await plugin.update!(created.id, URN, dropped, { target, onDelete: "keep" });
    assert.ok(isSecretValue((healed.outs as Record<string, unknown>).token));
    assert.strictEqual(notices.length, 1, JSON.stringify(notices));
    assert.match(notices[0].message, /issuing a new one now/);
  });

  it("importing signing keys reports no roll made elsewhere", async () => {
    notices.length = 0;
    const read = await plugin.read!(`qstash-signing-keys/${FIXTURE_IDS.qstash}`, URN, {});
    assert.ok(isSecretValue((read.props as Record<string, unknown>).currentSigningKey));
    assert.deepStrictEqual(notices, []);
  });
});

describe("plugin engine log: a notice is never lost quietly", () => {
  /** What `run` wrote to stderr. */
  async function stderrOf(run: () => Promise<void>): Promise<string> {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await run();
    } finally {
      process.stderr.write = original;
    }
    return written.join("");
  }

  it("without an engine address, notices go to stderr", async () => {
    const output = await stderrOf(async () => {
      await engineLogSink(undefined)(URN)("warning", "the password was removed outside Pulumi");
    });
    assert.strictEqual(output, "warning: the password was removed outside Pulumi\n");
  });

  it("when the engine does not answer, the notice goes to stderr and the operation goes on", async () => {
    const output = await stderrOf(() =>
      withNotices(engineLogSink("127.0.0.1:1")(URN), async () => {
        notify("warning", "keys rolled outside Pulumi");
      }),
    );
    assert.strictEqual(output, "warning: keys rolled outside Pulumi\n");
  });
});

import assert from "assert";
import fc from "fast-check";
import { credentialRotationProvider as provider, type InputFailure } from "../../provider";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { triggerFingerprint, UNKNOWN_VALUE } from "../../provider/trigger";
import { useEnvironment } from "../helpers/environment";

const PROPERTY_NAMES =
  /^(target(\.(type|databaseId|indexId|qstashUserId))?|onDelete|email|apiKey)$/;

/** Strings that break code which indexes plain objects by user input. */
const trickyString = fc.constantFrom(
  "constructor",
  "__proto__",
  "toString",
  "hasOwnProperty",
  "redis",
  "vector",
  "search",
  "qstash",
  "",
  " ",
  UNKNOWN_VALUE,
);
const anyString = fc.oneof(fc.string(), trickyString);
const anyJson = fc.oneof(fc.jsonValue(), anyString);

/** A target-shaped object with arbitrary members, some of them right. */
const targetLike = fc.record(
  {
    type: anyJson,
    databaseId: anyJson,
    indexId: anyJson,
    qstashUserId: anyJson,
    extra: anyJson,
  },
  { requiredKeys: [] },
);

const inputsLike = fc.record(
  {
    target: fc.oneof(targetLike, anyJson),
    trigger: anyJson,
    onDelete: fc.oneof(anyJson, fc.constantFrom("keep", "rotate")),
    email: anyJson,
    apiKey: anyJson,
    unrelated: anyJson,
  },
  { requiredKeys: [] },
);

/** A value that looks like a credential, recognisable wherever it ends up. */
const secretValue = fc.string({ minLength: 6, maxLength: 24 }).map((s) => `SECRET-${s}-TERCES`);

const validTarget = fc.oneof(
  fc.record({ type: fc.constant("redis"), databaseId: fc.uuid() }),
  fc.record({ type: fc.constant("vector"), indexId: fc.uuid() }),
  fc.record({ type: fc.constant("search"), indexId: fc.uuid() }),
  fc.record({ type: fc.constant("qstash"), qstashUserId: fc.uuid() }, { requiredKeys: ["type"] }),
);

async function check(news: unknown): Promise<{ inputs: unknown; failures: InputFailure[] }> {
  const result = await provider.check!({} as never, news as never);
  return { inputs: result.inputs, failures: (result.failures ?? []) as InputFailure[] };
}

describe("check (property-based)", () => {
  useEnvironment({ UPSTASH_EMAIL: "ops@example.com", UPSTASH_API_KEY: "property-test-key" });
  before(() => rememberConfiguredCredentials(undefined, undefined));

  it("never throws on arbitrary input; every failure names a real property", async () => {
    await fc.assert(
      fc.asyncProperty(inputsLike, async (news) => {
        const { failures } = await check(news);
        for (const failure of failures) {
          assert.match(failure.property, PROPERTY_NAMES);
          assert.ok(failure.reason.length > 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts every well-formed input and keeps it as given", async () => {
    await fc.assert(
      fc.asyncProperty(
        validTarget,
        fc.jsonValue(),
        fc.constantFrom("keep", "rotate"),
        async (target, trigger, onDelete) => {
          const { inputs, failures } = await check({ target, trigger, onDelete });
          assert.deepStrictEqual(failures, []);
          const kept = inputs as { target: unknown; trigger: unknown; onDelete: string };
          assert.deepStrictEqual(kept.target, target);
          assert.strictEqual(kept.onDelete, onDelete);
          assert.strictEqual(
            triggerFingerprint(kept.trigger as never),
            triggerFingerprint((trigger ?? null) as never),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("never echoes a value back in a failure, wherever it was put", async () => {
    const placements: ((secret: string) => Record<string, unknown>)[] = [
      (s) => ({ target: { type: s } }),
      (s) => ({ target: { type: "redis", databaseId: s, indexId: s } }),
      (s) => ({ target: { type: "vector", indexId: [s] } }),
      (s) => ({ target: { type: "qstash", qstashUserId: { s } } }),
      (s) => ({ target: s }),
      (s) => ({ target: { type: "search" }, onDelete: s }),
      (s) => ({ target: { type: "search", indexId: "i" }, email: s }),
      (s) => ({ target: { type: "search", indexId: "i" }, apiKey: s }),
      (s) => ({ target: { type: "search", indexId: "i" }, email: 42, apiKey: s }),
      (s) => ({ target: { type: "redis", databaseId: 7, [s]: s } }),
    ];
    await fc.assert(
      fc.asyncProperty(
        secretValue,
        fc.constantFrom(...placements),
        inputsLike,
        async (secret, place, noise) => {
          const { failures } = await check({ ...noise, ...place(secret) });
          const text = JSON.stringify(failures);
          assert.ok(!text.includes(secret), `failure echoed the value: ${text}`);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

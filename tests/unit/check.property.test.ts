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

// Plain objects, as the engine hands them over: check returns copies, not the originals.
const plain = { noNullPrototype: true } as const;
const validTarget = fc.oneof(
  fc.record({ type: fc.constant("redis"), databaseId: fc.uuid() }, plain),
  fc.record({ type: fc.constant("vector"), indexId: fc.uuid() }, plain),
  fc.record({ type: fc.constant("search"), indexId: fc.uuid() }, plain),
  fc.record(
    { type: fc.constant("qstash"), qstashUserId: fc.uuid() },
    { requiredKeys: ["type"], ...plain },
  ),
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

  it("never fails a position that holds a value unknown during preview", async () => {
    const positions = [
      "target",
      "target.type",
      "target.databaseId",
      "target.indexId",
      "target.qstashUserId",
      "trigger",
      "onDelete",
      "email",
      "apiKey",
    ];
    await fc.assert(
      fc.asyncProperty(
        inputsLike,
        targetLike,
        fc.subarray(positions, { minLength: 1 }),
        async (noise, someTarget, unknownAt) => {
          const news: Record<string, unknown> = { ...noise };
          for (const position of unknownAt) {
            const [head, field] = position.split(".");
            if (field === undefined) {
              news[head] = UNKNOWN_VALUE;
              continue;
            }
            const current = news.target;
            const target =
              current && typeof current === "object" && !Array.isArray(current)
                ? { ...current }
                : { ...someTarget };
            news.target = { ...target, [field]: UNKNOWN_VALUE };
          }
          // A whole unknown target wins over unknown fields placed in it before.
          if (unknownAt.includes("target")) news.target = UNKNOWN_VALUE;
          const { failures } = await check(news);
          for (const failure of failures) {
            assert.ok(
              !unknownAt.includes(failure.property),
              `failed an unknown ${failure.property}: ${JSON.stringify(failures)}`,
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("accepts well-formed input with any fields unknown, and keeps the unknowns", async () => {
    const idField = {
      redis: "databaseId",
      vector: "indexId",
      search: "indexId",
      qstash: "qstashUserId",
    };
    await fc.assert(
      fc.asyncProperty(
        validTarget,
        fc.constantFrom("keep", "rotate"),
        fc.subarray(["type", "id", "onDelete", "email", "apiKey"]),
        async (target, onDelete, unknownAt) => {
          const given: Record<string, unknown> = { ...target };
          if (unknownAt.includes("id")) given[idField[target.type]] = UNKNOWN_VALUE;
          if (unknownAt.includes("type")) given.type = UNKNOWN_VALUE;
          const news: Record<string, unknown> = {
            target: given,
            onDelete: unknownAt.includes("onDelete") ? UNKNOWN_VALUE : onDelete,
          };
          if (unknownAt.includes("email")) news.email = UNKNOWN_VALUE;
          if (unknownAt.includes("apiKey")) news.apiKey = UNKNOWN_VALUE;
          const { inputs, failures } = await check(news);
          assert.deepStrictEqual(failures, []);
          assert.deepStrictEqual(inputs, { ...news, trigger: null });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("hands on ids, email and apiKey without surrounding whitespace", async () => {
    const padding = fc.constantFrom("", " ", "  ", "\t", "\n", " \r\n");
    const pad = (value: string) => fc.tuple(padding, padding).map(([a, b]) => `${a}${value}${b}`);
    await fc.assert(
      fc.asyncProperty(
        validTarget,
        padding,
        padding,
        pad("ops@example.com"),
        pad("property-test-key"),
        async (target, before, after, email, apiKey) => {
          const padded = Object.fromEntries(
            Object.entries(target).map(([key, value]) => [
              key,
              key === "type" ? value : `${before}${value}${after}`,
            ]),
          );
          const { inputs, failures } = await check({ target: padded, email, apiKey });
          assert.deepStrictEqual(failures, []);
          const kept = inputs as { target: unknown; email: string; apiKey: string };
          assert.deepStrictEqual(kept.target, target);
          assert.strictEqual(kept.email, "ops@example.com");
          assert.strictEqual(kept.apiKey, "property-test-key");
        },
      ),
      { numRuns: 300 },
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

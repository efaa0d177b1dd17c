import assert from "assert";
import { addRedis, DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import {
  UpstashApiError,
  UpstashAuthError,
  UpstashNotFoundError,
  UpstashRequestError,
  UpstashUnavailableError,
  type RotationState,
} from "../../provider";
import { createThroughProvider, provider, useEmulator } from "../helpers/emulator";
import { assertNoSecrets } from "../helpers/secrets";

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;
const VECTOR = { type: "vector", indexId: FIXTURE_IDS.vector } as const;

describe("typed errors", () => {
  const ctx = useEmulator();

  it("401: says to check the key and email, and leaks neither", async () => {
    process.env.UPSTASH_API_KEY = "wrong-key-SECRET-1234";
    try {
      await assert.rejects(createThroughProvider({ target: REDIS }), (error: unknown) => {
        assert.ok(error instanceof UpstashAuthError);
        assert.strictEqual(error.status, 401);
        assert.strictEqual(error.code, "unauthorized");
        assert.strictEqual(error.targetId, FIXTURE_IDS.redis);
        assert.match(error.message, /Check the management API key and the email/);
        assertNoSecrets(error, ["wrong-key-SECRET-1234"]);
        return true;
      });
      assert.strictEqual(ctx.emulator.log.length, 1, "401 is not retried");
    } finally {
      process.env.UPSTASH_API_KEY = DEFAULT_ACCOUNT.apiKey;
    }
  });

  it("404: says the target does not exist in this account", async () => {
    await assert.rejects(
      createThroughProvider({ target: { type: "search", indexId: "no-such-index" } }),
      (error: unknown) =>
        error instanceof UpstashNotFoundError &&
        error.status === 404 &&
        /does not exist in this account/.test(error.message) &&
        /Upstash said: "search index not found"/.test(error.message),
    );
  });

  for (const [status, kind, pattern] of [
    [403, UpstashAuthError, /not allowed/],
    [400, UpstashRequestError, /rejected the request/],
    [405, UpstashRequestError, /rejected the request/],
    [406, UpstashRequestError, /rejected the request/],
  ] as const) {
    it(`${status}: a ${kind.name} with Upstash's own message, not retried`, async () => {
      ctx.emulator.faults = [
        {
          kind: "status",
          status,
          body: JSON.stringify({ message: `nope ${status}` }),
          contentType: "application/json",
        },
      ];
      await assert.rejects(createThroughProvider({ target: REDIS }), (error: unknown) => {
        assert.ok(error instanceof kind, String(error));
        assert.strictEqual((error as UpstashApiError).status, status);
        assert.match((error as Error).message, pattern);
        assert.match((error as Error).message, new RegExp(`Upstash said: "nope ${status}"`));
        assertNoSecrets(error);
        return true;
      });
      assert.strictEqual(ctx.emulator.log.length, 1);
    });
  }

  it("redacts a credential that an error body echoes back", async () => {
    ctx.emulator.faults = [
      { kind: "status", status: 400, body: `bad key ${DEFAULT_ACCOUNT.apiKey}` },
    ];
    await assert.rejects(createThroughProvider({ target: REDIS }), (error: unknown) => {
      assertNoSecrets(error);
      assert.match(String(error), /\[redacted\]/);
      return true;
    });
  });
});

describe("retries", () => {
  const ctx = useEmulator();

  it("429 with Retry-After: waits as told, then succeeds", async () => {
    ctx.emulator.faults = [
      { kind: "status", status: 429, retryAfter: "1", times: 1, method: "POST" },
    ];
    const started = Date.now();
    const { state } = await createThroughProvider({ target: REDIS });
    assert.ok(Date.now() - started >= 950, "Retry-After was not honoured");
    assert.strictEqual(ctx.emulator.rotations().length, 1);
    // The reading before the reset, the throttled reset, the reset.
    assert.strictEqual(ctx.emulator.log.length, 3);
    assert.ok(ctx.emulator.isCurrentCredential(state.token!));
  });

  for (const fault of [
    { kind: "status", status: 503 },
    { kind: "status", status: 500 },
    { kind: "status", status: 429 },
    { kind: "drop" },
    { kind: "hang" },
  ] as const) {
    it(`${fault.kind} ${"status" in fault ? fault.status : ""}: retried with backoff until it passes`, async () => {
      ctx.emulator.faults = [{ ...fault, times: 2 }];
      const { state } = await createThroughProvider({ target: VECTOR });
      assert.ok(ctx.emulator.isCurrentCredential(state.token!));
      assert.strictEqual(ctx.emulator.rotations().length, 1);
    });
  }

  it("a shared rate limit: concurrent rotations learn the rate from the first 429s and pace to it", async () => {
    const ids = Array.from({ length: 40 }, () => addRedis(ctx.emulator.data).database_id);
    ctx.emulator.rateLimitPerSecond = 10;
    ctx.emulator.faults = [{ kind: "latency", ms: 20 }];
    await Promise.all(
      ids.map((databaseId) => createThroughProvider({ target: { type: "redis", databaseId } })),
    );
    const throttled = ctx.emulator.log.filter((entry) => entry.status === 429).length;
    assert.strictEqual(
      ctx.emulator.rotations().length,
      40,
      "a database was reset twice or not at all",
    );
    // Four windows: only the first burst may overrun (a limit counts once a second 429 confirms
    // it, so that burst may see a few more under a busy CPU); blind retrying overruns in every window.
    assert.ok(throttled <= 6, `${throttled} requests were answered 429`);
  });

  it("gives up after the attempt budget with a typed error", async () => {
    process.env.UPSTASH_API_MAX_ATTEMPTS = "3";
    try {
      ctx.emulator.faults = [{ kind: "status", status: 503 }];
      await assert.rejects(createThroughProvider({ target: REDIS }), (error: unknown) => {
        assert.ok(error instanceof UpstashUnavailableError);
        assert.strictEqual(error.code, "unavailable");
        assert.strictEqual(error.attempts, 3);
        assert.match(error.message, /after 3 attempts/);
        return true;
      });
      assert.strictEqual(ctx.emulator.log.length, 3);
      assert.strictEqual(ctx.emulator.rotations().length, 0);
    } finally {
      delete process.env.UPSTASH_API_MAX_ATTEMPTS;
    }
  });

  it("an HTML page in place of the read-back is a clear error that says the reset happened", async () => {
    // `after: 1`: the reading taken before the reset goes through.
    ctx.emulator.faults = [{ kind: "wrong-content-type", method: "GET", after: 1 }];
    await assert.rejects(
      createThroughProvider({ target: VECTOR }),
      /were rotated .*did not have the expected shape/,
    );
  });
});

describe("reset succeeded, answer unusable", () => {
  const ctx = useEmulator();

  it("a malformed reset answer falls back to reading the credentials back", async () => {
    ctx.emulator.faults = [{ kind: "malformed-json", method: "POST" }];
    const { state } = await createThroughProvider({ target: REDIS });
    assert.strictEqual(ctx.emulator.rotations().length, 1);
    assert.strictEqual(state.password, ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!.password);
  });

  it("a failing read-back says the credentials were rotated, keeps the resource, and refresh records them", async () => {
    process.env.UPSTASH_API_MAX_ATTEMPTS = "2";
    ctx.emulator.faults = [{ kind: "status", status: 500, method: "GET", after: 1 }];
    const checked = await provider.check!({} as never, { target: VECTOR, trigger: 1 } as never);
    let partial: { id?: string; properties?: Record<string, unknown>; reasons?: string[] } = {};
    try {
      await assert.rejects(provider.create(checked.inputs as never), (error: unknown) => {
        partial = error as typeof partial;
        assert.match(String(error), /were rotated \(the previous ones no longer work\)/);
        assert.match(String(error), /Run `pulumi refresh`/);
        assertNoSecrets(error, [ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token]);
        return true;
      });
    } finally {
      delete process.env.UPSTASH_API_MAX_ATTEMPTS;
    }
    assert.strictEqual(partial.id, `vector/${FIXTURE_IDS.vector}`);
    assert.strictEqual(partial.properties?.token, undefined, "no dead credentials are recorded");
    assert.strictEqual(partial.properties?.rotationCount, 1);
    assert.strictEqual(ctx.emulator.rotations().length, 1);

    ctx.emulator.faults = [];
    const refreshed = await provider.read!(
      partial.id!,
      partial.properties as unknown as RotationState,
    );
    assert.strictEqual(refreshed.id, partial.id);
    assert.strictEqual(
      refreshed.props?.token,
      ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token,
    );
    assert.strictEqual(ctx.emulator.rotations().length, 1, "refresh does not rotate");
  });

  it("after a failing read-back, the next up reads the credentials instead of resetting again", async () => {
    process.env.UPSTASH_API_MAX_ATTEMPTS = "1";
    ctx.emulator.faults = [{ kind: "status", status: 503, method: "GET", after: 1 }];
    const checked = await provider.check!({} as never, { target: VECTOR, trigger: 1 } as never);
    let properties: RotationState | undefined;
    try {
      await provider.create(checked.inputs as never).catch((error: unknown) => {
        properties = (error as { properties: RotationState }).properties;
      });
    } finally {
      delete process.env.UPSTASH_API_MAX_ATTEMPTS;
    }
    assert.ok(properties, "create did not fail as a partial failure");
    ctx.emulator.faults = [];
    const id = `vector/${FIXTURE_IDS.vector}`;
    const diff = await provider.diff!(id, properties, checked.inputs as never);
    assert.strictEqual(diff.changes, true);
    assert.deepStrictEqual(diff.replaces, []);
    const updated = await provider.update!(id, properties, checked.inputs as never);
    assert.strictEqual(
      updated.outs?.token,
      ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token,
    );
    assert.strictEqual(ctx.emulator.rotations().length, 1, "the update did not reset again");
  });
});

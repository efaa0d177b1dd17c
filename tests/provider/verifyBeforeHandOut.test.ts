import assert from "assert";
import { createHash } from "crypto";
import { FIXTURE_IDS, type TargetKind } from "../../emulator/state";
import type { RotationTarget } from "../../provider";
import { dataPlaneRequest, dataPlaneUrl } from "../../provider/dataPlane/client";
import { UNKNOWN_VALUE } from "../../provider/trigger";
import { pingStatus } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { setEnvironment } from "../helpers/environment";
import { assertNoSecrets } from "../helpers/secrets";
import { failureOf, recordedBy } from "../helpers/failures";

const CASES: { kind: TargetKind; target: RotationTarget; path: RegExp }[] = [
  { kind: "redis", target: { type: "redis", databaseId: FIXTURE_IDS.redis }, path: /\/ping$/ },
  { kind: "vector", target: { type: "vector", indexId: FIXTURE_IDS.vector }, path: /\/info$/ },
  { kind: "search", target: { type: "search", indexId: FIXTURE_IDS.search }, path: /\/info$/ },
  {
    kind: "qstash",
    target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
    path: /^\/data-plane\/qstash\.upstash\.io\/v2\/keys$/,
  },
];

describe("verify before hand-out (reset targets)", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const token = (kind: TargetKind): string => {
    const target = ctx.emulator.data[kind].get(FIXTURE_IDS[kind])!;
    return "rest_token" in target ? (target.rest_token as string) : (target.token as string);
  };

  for (const { kind, target, path } of CASES) {
    it(`${kind}: the new credential is proven against the data plane with itself before it is handed out`, async () => {
      const { state } = await createThroughProvider({ target });
      const proofs = ctx.dataPlaneLog.filter((entry) => path.test(entry.path));
      assert.deepStrictEqual(
        proofs.map((entry) => `${entry.method} ${entry.status}`),
        ["GET 200"],
      );
      assert.strictEqual(state.token, token(kind));
    });
  }

  it("a rejected credential after a reset is a partial failure that says the reset happened and hands nothing out; the next up records it once accepted, without another reset", async () => {
    const created = await createThroughProvider({ target: CASES[1].target, trigger: 1 });
    ctx.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, { reject: "unauthorized" });
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /were rotated \(the previous ones no longer work\)/);
    assert.match(error.message, /data plane rejected the new credential/);
    assert.match(error.message, /HTTP 401/);
    assert.match(error.message, /consumers get none/);
    const recorded = recordedBy(error);
    assert.strictEqual(recorded.token, undefined, "a rejected credential was handed out");
    assert.strictEqual(recorded.env, undefined);
    assert.strictEqual(
      recorded.pendingRotation?.previousTokenSha256,
      createHash("sha256").update(created.state.token!).digest("hex"),
    );
    assertNoSecrets(error, [created.state.token!, token("vector")]);
    assert.strictEqual(ctx.emulator.rotations().length, 2);

    // Still rejected: still nothing handed out, and still no second reset.
    const again = await failureOf(updateThroughProvider(created.id, recorded, { trigger: 2 }));
    assert.match(again.message, /rejected the new credential/);
    assert.strictEqual(recordedBy(again).token, undefined);
    assert.ok(recordedBy(again).pendingRotation);
    assert.strictEqual(ctx.emulator.rotations().length, 2);

    // Refresh does not record it either while the data plane still rejects it.
    const refresh = await failureOf(provider.read!(created.id, recordedBy(again)));
    assert.match(refresh.message, /rejected the new credential/);

    ctx.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, {});
    const healed = await updateThroughProvider(created.id, recordedBy(again), { trigger: 2 });
    assert.strictEqual(healed.state.token, token("vector"));
    assert.strictEqual(healed.state.pendingRotation, undefined);
    assert.strictEqual(
      ctx.emulator.rotations().length,
      2,
      "the data plane's refusal caused a reset",
    );
  });

  it("a data plane that cannot be reached (no egress) fails the same way, naming verify: false", async () => {
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "drop" });
    const error = await failureOf(createThroughProvider({ target: CASES[0].target }));
    assert.match(error.message, /were rotated/);
    assert.match(error.message, /verify: false/);
    assert.strictEqual(recordedBy(error).token, undefined);
  });

  it("verify: false hands out the new credentials without any data-plane call", async () => {
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "drop" });
    const { state } = await createThroughProvider({ target: CASES[0].target, verify: false });
    assert.deepStrictEqual(ctx.dataPlaneLog, []);
    assert.strictEqual(state.token, token("redis"));
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
    assert.strictEqual(await pingStatus(ctx.emulator, state.token!), 200);
  });

  it("changing verify alone is an update without any call", async () => {
    const created = await createThroughProvider({ target: CASES[0].target });
    ctx.emulator.log.length = 0;
    const updated = await updateThroughProvider(created.id, created.state, { verify: false });
    assert.strictEqual(updated.changed, true);
    assert.strictEqual(updated.state.verify, false);
    assert.strictEqual(ctx.emulator.log.length, 0);
  });

  it("a credential still propagating (401 twice) is accepted within the retry budget", async () => {
    ctx.emulator.setDataPlaneSwitch("search", FIXTURE_IDS.search, { freshTokenRejections: 2 });
    const { state } = await createThroughProvider({ target: CASES[2].target });
    assert.strictEqual(state.token, token("search"));
    assert.deepStrictEqual(
      ctx.dataPlaneLog.map((entry) => entry.status),
      [401, 401, 200],
    );
  });

  it("revokeAllOn on a reset target is one more reset", async () => {
    const created = await createThroughProvider({ target: CASES[0].target });
    const revoked = await updateThroughProvider(created.id, created.state, { revokeAllOn: "x" });
    assert.strictEqual(ctx.emulator.rotations().length, 2);
    assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
    assert.strictEqual(revoked.state.token, token("redis"));
    // Removing it after the incident asks for nothing.
    const removed = await updateThroughProvider(created.id, revoked.state, {
      revokeAllOn: undefined,
    });
    assert.strictEqual(ctx.emulator.rotations().length, 2);
    assert.strictEqual(removed.state.token, token("redis"));
  });

  describe("data-plane addressing", () => {
    it("UPSTASH_DATA_PLANE_URL prefixes the host; unset, the real https:// host is used", () => {
      const restore = setEnvironment({
        UPSTASH_DATA_PLANE_URL: "http://127.0.0.1:8787/data-plane/",
      });
      try {
        assert.strictEqual(
          dataPlaneUrl("eu2-x-1.upstash.io", "/ping"),
          "http://127.0.0.1:8787/data-plane/eu2-x-1.upstash.io/ping",
        );
      } finally {
        restore();
      }
      const real = setEnvironment({ UPSTASH_DATA_PLANE_URL: "", UPSTASH_API_URL: "" });
      try {
        assert.strictEqual(
          dataPlaneUrl("qstash-us-east-1.upstash.io", "/v2/keys"),
          "https://qstash-us-east-1.upstash.io/v2/keys",
        );
        assert.throws(() => dataPlaneUrl("evil.example.com/x@y", "/ping"), /not a plain host/);
      } finally {
        real();
      }
    });

    it("a data-plane error never carries the token, even when the body echoes it", async () => {
      const token = "AU-SECRET-TOKEN-0123456789abcdef";
      ctx.emulator.faults = [
        {
          kind: "status",
          status: 401,
          path: "^/data-plane/",
          body: JSON.stringify({ error: `WRONGPASS ${token} Bearer ${token}` }),
          contentType: "application/json",
        },
      ];
      const error = await failureOf(
        dataPlaneRequest({
          method: "GET",
          host: "eu2-emulated-96ad0856.upstash.io",
          path: "/ping",
          token,
          operation: "PING",
        }),
      );
      assert.strictEqual(error.name, "DataPlaneError");
      assert.match(error.message, /HTTP 401/);
      assert.match(error.message, /\[redacted\]/);
      assertNoSecrets(error, [token]);
    });

    it("http:// outside loopback is refused before any reset, naming the variable", async () => {
      const restore = setEnvironment({ UPSTASH_DATA_PLANE_URL: "http://10.0.0.5:8080/data-plane" });
      try {
        const error = await failureOf(createThroughProvider({ target: CASES[0].target }));
        assert.match(error.message, /UPSTASH_DATA_PLANE_URL uses http:\/\/ to 10\.0\.0\.5:8080/);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
      } finally {
        restore();
      }
    });

    it("a local UPSTASH_API_URL without UPSTASH_DATA_PLANE_URL fails before any reset (no token goes to a real host)", async () => {
      const restore = setEnvironment({ UPSTASH_DATA_PLANE_URL: "" });
      try {
        const error = await failureOf(createThroughProvider({ target: CASES[1].target }));
        assert.match(error.message, /UPSTASH_DATA_PLANE_URL is not set/);
        assert.match(error.message, /Nothing was changed/);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
        assert.deepStrictEqual(ctx.dataPlaneLog, []);
        // verify: false needs no data plane for a reset target.
        await createThroughProvider({ target: CASES[1].target, verify: false });
        assert.strictEqual(ctx.emulator.rotations().length, 1);
      } finally {
        restore();
      }
    });
  });
});

describe("check: the new inputs", () => {
  const ctx = useEmulator();
  const failures = async (news: Record<string, unknown>) =>
    (await provider.check!({} as never, news as never)).failures ?? [];
  const SECRETISH = "AU5ecret-Pasted-Value";

  it("accepts an ACL user with rules, verify, revokeAllOn and signing keys with minRollInterval", async () => {
    assert.ok(ctx.emulator);
    for (const news of [
      { target: { type: "redis", databaseId: "db", user: "app" } },
      { target: { type: "redis", databaseId: "db", user: "app", rules: ["~cache:*", "+@read"] } },
      { target: { type: "redis", databaseId: "db" }, verify: false, revokeAllOn: { at: 1 } },
      { target: { type: "qstash-signing-keys" }, minRollInterval: "0min" },
      { target: { type: "qstash-signing-keys", qstashUserId: "u" }, minRollInterval: "3mo" },
    ]) {
      assert.deepStrictEqual(await failures(news), [], JSON.stringify(news));
    }
  });

  it("refuses bad user names and rules, naming the property and never the value", async () => {
    for (const [target, property] of [
      [{ type: "redis", databaseId: "db", user: "default" }, "target.user"],
      [{ type: "redis", databaseId: "db", user: `has space ${SECRETISH}` }, "target.user"],
      [
        { type: "redis", databaseId: "db", user: "app", rules: ["~*", `>${SECRETISH}`] },
        "target.rules.1",
      ],
      [{ type: "redis", databaseId: "db", user: "app", rules: ["+client|list"] }, "target.rules.0"],
      [{ type: "redis", databaseId: "db", user: "app", rules: ["on"] }, "target.rules.0"],
      [{ type: "redis", databaseId: "db", user: "app", rules: [] }, "target.rules"],
      [{ type: "redis", databaseId: "db", rules: ["~*"] }, "target.rules"],
    ] as const) {
      const found = await failures({ target });
      assert.deepStrictEqual(
        found.map((f) => f.property),
        [property],
        JSON.stringify(target),
      );
      assert.ok(!JSON.stringify(found).includes(SECRETISH), "a value was echoed");
    }
    const verify = await failures({ target: { type: "redis", databaseId: "db" }, verify: "yes" });
    assert.deepStrictEqual(
      verify.map((f) => f.property),
      ["verify"],
    );
  });

  it("lets values unknown during preview through", async () => {
    for (const news of [
      { target: { type: "redis", databaseId: "db", user: UNKNOWN_VALUE } },
      { target: { type: "redis", databaseId: "db", user: "app", rules: UNKNOWN_VALUE } },
      { target: { type: "redis", databaseId: "db", user: "app", rules: ["~*", UNKNOWN_VALUE] } },
      { target: { type: "redis", databaseId: "db" }, verify: UNKNOWN_VALUE },
      { target: { type: "qstash-signing-keys" }, minRollInterval: UNKNOWN_VALUE },
      { target: UNKNOWN_VALUE, minRollInterval: "1h", revokeAllOn: UNKNOWN_VALUE },
    ]) {
      assert.deepStrictEqual(await failures(news), [], JSON.stringify(news));
    }
  });
});

import assert from "assert";
import { createHash } from "crypto";
import { Redis, type RedisOptions } from "ioredis";
import { FIXTURE_IDS, type TargetKind } from "../../emulator/state";
import type { RotationState, RotationTarget } from "../../provider";
import { dataPlaneRequest, dataPlaneUrl } from "../../provider/dataPlane/client";
import { redisConnection } from "../../provider/dataPlane/redisProtocol";
import { UNKNOWN_VALUE } from "../../provider/trigger";
import { pingStatus, redisRest } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { setEnvironment, useEnvironment } from "../helpers/environment";
import { assertNoSecrets } from "../helpers/secrets";
import { failureOf, recordedBy } from "../helpers/failures";

/**
 * Each target, the data-plane requests that prove its credentials (sorted, by
 * path on the target's host), the Redis-protocol commands, and the name of
 * its read-only token in the Developer API.
 */
const CASES: {
  kind: TargetKind;
  target: RotationTarget;
  proofs: string[];
  resp: string[];
  readOnlyField: string;
}[] = [
  {
    kind: "redis",
    target: { type: "redis", databaseId: FIXTURE_IDS.redis },
    proofs: ["GET /dbsize 200", "GET /ping 200"],
    resp: ["AUTH default ok", "PING default ok"],
    readOnlyField: "read_only_rest_token",
  },
  {
    kind: "vector",
    target: { type: "vector", indexId: FIXTURE_IDS.vector },
    proofs: ["GET /info 200", "GET /info 200"],
    resp: [],
    readOnlyField: "read_only_token",
  },
  {
    kind: "search",
    target: { type: "search", indexId: FIXTURE_IDS.search },
    proofs: ["GET /info 200", "GET /info 200"],
    resp: [],
    readOnlyField: "read_only_token",
  },
  {
    kind: "qstash",
    target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
    proofs: ["GET /v2/keys 200", "GET /v2/schedules 200"],
    resp: [],
    readOnlyField: "read_only_token",
  },
];

/** A data-plane request as `METHOD /path status`, without the emulator's `/data-plane/<host>`. */
const shown = (entry: { method: string; path: string; status: number }): string =>
  `${entry.method} ${entry.path.replace(/^\/data-plane\/[^/]+/, "")} ${entry.status}`;

describe("verify before hand-out (reset targets)", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const token = (kind: TargetKind): string => {
    const target = ctx.emulator.data[kind].get(FIXTURE_IDS[kind])!;
    return "rest_token" in target ? (target.rest_token as string) : (target.token as string);
  };

  for (const { kind, target, proofs, resp } of CASES) {
    it(`${kind}: every new credential is proven against the data plane with itself before it is handed out`, async () => {
      const { state } = await createThroughProvider({ target });
      assert.deepStrictEqual(ctx.dataPlaneLog.map(shown).sort(), proofs);
      assert.deepStrictEqual(
        ctx.emulator.resp.log.map((entry) => `${entry.command} ${entry.user} ${entry.outcome}`),
        resp,
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
    assert.deepStrictEqual(ctx.emulator.resp.log, [], "a Redis-protocol connection was made");
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

  it("credentials still propagating (401 twice each) are accepted within the retry budget", async () => {
    ctx.emulator.setDataPlaneSwitch("search", FIXTURE_IDS.search, { freshTokenRejections: 2 });
    const { state } = await createThroughProvider({ target: CASES[2].target });
    assert.strictEqual(state.token, token("search"));
    // The token and the read-only token, each refused twice, then accepted.
    assert.deepStrictEqual(
      ctx.dataPlaneLog.map((entry) => entry.status).sort(),
      [200, 200, 401, 401, 401, 401],
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

describe("every credential handed out is proven", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  // A dead credential stays dead: a short budget keeps these tests quick.
  useEnvironment({ UPSTASH_VERIFY_MAX_MS: "1000" });
  const REDIS = CASES[0].target;
  const db = () => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
  /** Every credential value a target holds now (the new ones, after a reset). */
  const secretsOf = (kind: TargetKind): string[] =>
    Object.entries(ctx.emulator.data[kind].get(FIXTURE_IDS[kind])!)
      .filter(([field]) => /password|token/.test(field))
      .map(([, value]) => String(value));
  const handedOut = (state: RotationState): unknown[] =>
    [state.token, state.readOnlyToken, state.password, state.redisUrl, state.env].filter(
      (value) => value !== undefined,
    );

  for (const { kind, target, readOnlyField } of CASES) {
    it(`${kind}: a dead read-only token is not handed out; the next up records the credentials once it works, without another reset`, async () => {
      const created = await createThroughProvider({ target, trigger: 1 });
      ctx.emulator.setDataPlaneSwitch(kind, FIXTURE_IDS[kind], { refuse: [readOnlyField] });
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { trigger: 2 }),
      );
      assert.match(error.message, /were rotated \(the previous ones no longer work\)/);
      assert.match(error.message, /prove the new read-only (REST |QStash )?token of /);
      assert.match(error.message, /failed with HTTP 401/);
      assert.match(error.message, /No credential is handed out/);
      assert.match(error.message, /Run `pulumi up` again/);
      assert.deepStrictEqual(handedOut(recordedBy(error)), [], "a credential was handed out");
      assertNoSecrets(error, secretsOf(kind));
      assert.strictEqual(ctx.emulator.rotations().length, 2);

      ctx.emulator.setDataPlaneSwitch(kind, FIXTURE_IDS[kind], {});
      const healed = await updateThroughProvider(created.id, recordedBy(error), { trigger: 2 });
      // The live read-only token, now proven, is handed out.
      assert.ok(secretsOf(kind).includes(healed.state.readOnlyToken!));
      assert.strictEqual(ctx.emulator.rotations().length, 2, "healing reset again");
    });
  }

  it("redis: a dead password is not handed out: AUTH answers WRONGPASS over the Redis protocol, though both tokens work", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { refuse: ["password"] });
    ctx.dataPlaneLog.splice(0);
    ctx.emulator.resp.log.length = 0;
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(
      error.message,
      /prove the new password of Redis database \S+ \(AUTH and PING over the Redis protocol\) \(eu2-emulated-96ad0856\.upstash\.io:6379\) failed after \d+ attempts; Upstash said: "WRONGPASS invalid username-password pair or user is disabled\."/,
    );
    assert.match(error.message, /were rotated \(the previous ones no longer work\)/);
    assert.match(
      error.message,
      /Run `pulumi up` again: it records the live credentials once the data plane accepts them, without another reset/,
    );
    assert.deepStrictEqual(handedOut(recordedBy(error)), [], "a credential was handed out");
    assertNoSecrets(error, secretsOf("redis"));
    // Both tokens passed their proofs; the password was asked again within the budget.
    assert.deepStrictEqual(ctx.dataPlaneLog.map(shown).sort(), CASES[0].proofs);
    const auths = ctx.emulator.resp.log.map((entry) => `${entry.command} ${entry.outcome}`);
    assert.ok(auths.length > 1 && auths.every((seen) => seen === "AUTH WRONGPASS"), auths.join());

    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
    const healed = await updateThroughProvider(created.id, recordedBy(error), { trigger: 2 });
    assert.strictEqual(healed.state.password, db().password);
    assert.strictEqual(ctx.emulator.rotations().length, 2, "healing reset again");
  });

  it("redis: several dead credentials fail in one message that names each", async () => {
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {
      refuse: ["read_only_rest_token", "password"],
    });
    const error = await failureOf(createThroughProvider({ target: REDIS }));
    assert.match(
      error.message,
      /2 of the new credentials failed their proofs: \(1\) .*read-only REST token .*HTTP 401.* \(2\) .*password .*WRONGPASS/,
    );
    assert.deepStrictEqual(handedOut(recordedBy(error)), []);
    assertNoSecrets(error, secretsOf("redis"));
  });

  it("redis: a password still propagating (WRONGPASS twice) is accepted within the budget", async () => {
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 2 });
    const { state } = await createThroughProvider({ target: REDIS });
    assert.strictEqual(state.password, db().password);
    assert.deepStrictEqual(
      ctx.emulator.resp.log.map((entry) => `${entry.command} ${entry.outcome}`),
      ["AUTH WRONGPASS", "AUTH WRONGPASS", "AUTH ok", "PING ok"],
    );
  });

  it("a Redis port that cannot be reached fails naming verify: false, and hands nothing out", async () => {
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "drop" });
    const error = await failureOf(createThroughProvider({ target: REDIS }));
    assert.match(
      error.message,
      /AUTH and PING over the Redis protocol\) \(\S+:6379\) failed \(the connection closed during AUTH\)/,
    );
    assert.match(error.message, /verify: false/);
    assert.deepStrictEqual(handedOut(recordedBy(error)), []);
    assertNoSecrets(error, secretsOf("redis"));
  });

  it("the proofs of one rotation run at once: two proofs delayed 1 s each take about 1 s together", async () => {
    const delayMs = 1000;
    ctx.emulator.faults = [{ kind: "latency", ms: delayMs, path: "^/data-plane/" }];
    const restore = setEnvironment({ UPSTASH_VERIFY_MAX_MS: "5000" });
    const started = Date.now();
    try {
      await createThroughProvider({ target: REDIS });
    } finally {
      restore();
    }
    const took = Date.now() - started;
    assert.deepStrictEqual(ctx.dataPlaneLog.map(shown).sort(), CASES[0].proofs);
    assert.ok(took >= delayMs && took < 2 * delayMs - 100, `the proofs took ${took} ms`);
  });

  it("an ACL user's password is proven as that user, with AUTH <user> <password>", async () => {
    const { state } = await createThroughProvider({
      target: { type: "redis", databaseId: FIXTURE_IDS.redis, user: "app" },
    });
    assert.deepStrictEqual(
      ctx.emulator.resp.log.map((entry) => `${entry.command} ${entry.user} ${entry.outcome}`),
      ["AUTH app ok", "PING app ok"],
    );
    assert.match(state.redisUrl!, /^rediss:\/\/app:/);
  });
});

describe("redisUrl works for an ordinary Redis client (ioredis)", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const clients: Redis[] = [];
  /** ioredis as an application configures it, pointed where the provider points its proof. */
  const clientFor = (redisUrl: string, options: RedisOptions = {}): Redis => {
    const { host, port, tls, username, password } = redisConnection(redisUrl);
    const client = new Redis({
      host,
      port,
      username,
      password,
      ...(tls ? { tls: {} } : {}),
      lazyConnect: true,
      // A test must not retry for ever when the login fails.
      retryStrategy: () => null,
      ...options,
    });
    client.on("error", () => undefined);
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });

  it("connects with the database's redisUrl and runs commands on the data REST sees", async () => {
    const { state } = await createThroughProvider({ target: CASES[0].target });
    const connection = redisConnection(state.redisUrl!);
    const emulator = new URL(ctx.emulator.url);
    // Under UPSTASH_DATA_PLANE_URL, the emulator's own port, in plain TCP.
    assert.deepStrictEqual(
      [connection.host, connection.port, connection.tls, connection.username],
      [emulator.hostname, Number(emulator.port), false, "default"],
    );
    const client = clientFor(state.redisUrl!);
    await client.connect();
    assert.strictEqual(await client.set("greeting", "hello"), "OK");
    assert.strictEqual(await client.incr("visits"), 1);
    assert.deepStrictEqual(await client.mget("greeting", "absent"), ["hello", null]);
    const rest = await redisRest(ctx.emulator, state.token!, ["GET", "greeting"]);
    assert.deepStrictEqual(rest, { status: 200, result: "hello" });
    // ioredis logged in with HELLO 3, as it does by default.
    assert.strictEqual(ctx.emulator.resp.log.at(-1)?.command, "MGET");
    assert.ok(
      ctx.emulator.resp.log.some((entry) => entry.command === "HELLO" && entry.outcome === "ok"),
    );
  });

  it("after a rotation the old redisUrl is refused with WRONGPASS and the new one works", async () => {
    const created = await createThroughProvider({ target: CASES[0].target, trigger: 1 });
    const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    await assert.rejects(
      async () => {
        const old = clientFor(created.state.redisUrl!);
        await old.connect();
        await old.ping();
      },
      (error: Error) => error.message.length > 0,
    );
    assert.ok(
      ctx.emulator.resp.log.some(
        (entry) => entry.command === "HELLO" && entry.outcome === "WRONGPASS",
      ),
    );
    const fresh = clientFor(rotated.state.redisUrl!);
    await fresh.connect();
    assert.strictEqual(await fresh.ping(), "PONG");
  });

  it("an ACL user's redisUrl logs in as that user, within its rules", async () => {
    const { state } = await createThroughProvider({
      target: { type: "redis", databaseId: FIXTURE_IDS.redis, user: "app" },
    });
    // INFO is @dangerous, which the default rules deny: ioredis would only warn and skip its check.
    const client = clientFor(state.redisUrl!, { enableReadyCheck: false });
    await client.connect();
    assert.strictEqual(await client.call("ACL", "WHOAMI"), "app");
    assert.strictEqual(await client.set("k", "v"), "OK");
    await assert.rejects(
      client.flushall(),
      /NOPERM this user has no permissions to run the 'flushall' command/,
    );
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

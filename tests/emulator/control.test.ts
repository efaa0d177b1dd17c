import assert from "assert";
import type { DataPlaneSwitch, LoggedRequest } from "../../emulator/server";
import {
  FIXTURE_IDS,
  type QStashUser,
  type RedisDatabase,
  type RestIndex,
} from "../../emulator/state";
import { redisRest } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";

describe("emulator: the control API under /_emulator/", () => {
  const ctx = useEmulatorOverHttp();
  const control = (method: string, path: string, body?: unknown) =>
    ctx.call(method, `/_emulator/${path}`, {
      authorization: null,
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  describe("POST /_emulator/targets seeds a target the API then serves", () => {
    it("redis: answers the new database with its credentials", async () => {
      const reply = await control("POST", "targets", { type: "redis", name: "orders" });
      assert.strictEqual(reply.status, 200);
      const db = reply.json<RedisDatabase>();
      assert.strictEqual(db.database_name, "orders");
      assert.ok(db.password && db.rest_token && db.read_only_rest_token);
      const served = await ctx.call("GET", `/v2/redis/database/${db.database_id}`);
      assert.deepStrictEqual(served.json(), db);
      const list = (await ctx.call("GET", "/v2/redis/databases")).json<RedisDatabase[]>();
      assert.deepStrictEqual(
        list.map((item) => item.database_id),
        [FIXTURE_IDS.redis, db.database_id],
      );
    });

    for (const [type, path] of [
      ["vector", "/v2/vector/index/"],
      ["search", "/v2/search/"],
      ["qstash", "/v2/qstash/user/"],
    ] as const) {
      it(`${type}: with a chosen id, served at ${path}{id}`, async () => {
        const reply = await control("POST", "targets", { type, id: `my-${type}` });
        assert.strictEqual(reply.status, 200);
        const created = reply.json<RestIndex | QStashUser>();
        assert.strictEqual(created.id, `my-${type}`);
        assert.ok(created.token && created.read_only_token);
        assert.deepStrictEqual((await ctx.call("GET", `${path}my-${type}`)).json(), created);
      });
    }

    it("refuses an unknown type, a bad id and an id that exists", async () => {
      assert.strictEqual((await control("POST", "targets", { type: "kafka" })).status, 400);
      assert.strictEqual((await control("POST", "targets", { type: "redis", id: 7 })).status, 400);
      const taken = await control("POST", "targets", { type: "redis", id: FIXTURE_IDS.redis });
      assert.strictEqual(taken.status, 409);
      assert.strictEqual(ctx.emulator.data.redis.size, 1);
    });

    it("answers 400 for a body that is not a JSON object", async () => {
      for (const body of ["{", "[]", "null", '"redis"']) {
        const reply = await ctx.call("POST", "/_emulator/targets", { body });
        assert.strictEqual(reply.status, 400, body);
        assert.deepStrictEqual(reply.json(), { error: "the body must be a JSON object" });
      }
    });
  });

  it("DELETE /_emulator/targets removes a target; 404 when absent, 400 for a bad type", async () => {
    const removed = await control("DELETE", "targets", { type: "vector", id: FIXTURE_IDS.vector });
    assert.strictEqual(removed.status, 200);
    assert.strictEqual(
      (await ctx.call("GET", `/v2/vector/index/${FIXTURE_IDS.vector}`)).status,
      404,
    );
    const again = await control("DELETE", "targets", { type: "vector", id: FIXTURE_IDS.vector });
    assert.strictEqual(again.status, 404);
    const bad = await control("DELETE", "targets", { type: "account", id: "x" });
    assert.strictEqual(bad.status, 400);
  });

  it("GET state shows the account and every target; GET requests the API log", async () => {
    await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
    const state = (await control("GET", "state")).json<{
      account: { email: string };
      redis: RedisDatabase[];
      qstash: QStashUser[];
    }>();
    assert.strictEqual(state.account.email, ctx.emulator.data.account.email);
    assert.deepStrictEqual(state.redis, [ctx.emulator.data.redis.get(FIXTURE_IDS.redis)]);
    assert.strictEqual(state.qstash[0].id, FIXTURE_IDS.qstash);
    const log = (await control("GET", "requests")).json<LoggedRequest[]>();
    assert.deepStrictEqual(
      log.map((entry) => [entry.method, entry.path, entry.status, entry.rotated]),
      [["POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`, 200, true]],
    );
  });

  it("POST config sets faults, the rate limit and legacyQStashOnly; POST reset clears them", async () => {
    const config = await control("POST", "config", {
      faults: [{ kind: "status", status: 503, path: "^/v2/search", times: 1 }],
      rateLimitPerSecond: 100,
      legacyQStashOnly: true,
    });
    assert.strictEqual(config.status, 200);
    assert.strictEqual((await ctx.call("GET", "/v2/search")).status, 503);
    assert.strictEqual((await ctx.call("GET", "/v2/search")).status, 200);
    assert.strictEqual((await ctx.call("GET", "/v2/qstash/users")).status, 404);
    assert.strictEqual(ctx.emulator.rateLimitPerSecond, 100);

    assert.strictEqual((await control("POST", "config", { clearLog: true })).status, 200);
    assert.strictEqual(ctx.emulator.log.length, 0);

    const before = ctx.emulator.data.redis.get(FIXTURE_IDS.redis)?.password;
    assert.strictEqual((await control("POST", "reset")).status, 200);
    assert.notStrictEqual(ctx.emulator.data.redis.get(FIXTURE_IDS.redis)?.password, before);
    assert.strictEqual(ctx.emulator.legacyQStashOnly, false);
    assert.strictEqual(ctx.emulator.rateLimitPerSecond, 0);
    assert.strictEqual((await ctx.call("GET", "/v2/qstash/users")).status, 200);
  });

  it("POST data-plane with refuse: those credentials are wrong whatever they hold, also after a reset; [] turns it off", async () => {
    const reply = await control("POST", "data-plane", {
      type: "redis",
      id: FIXTURE_IDS.redis,
      refuse: ["read_only_rest_token"],
    });
    assert.strictEqual(reply.status, 200);
    assert.deepStrictEqual(reply.json<{ switch: DataPlaneSwitch }>().switch, {
      refuse: ["read_only_rest_token"],
    });
    const rest = redisRest(ctx);
    const statuses = async (): Promise<number[]> => [
      (await rest.send(rest.db().read_only_rest_token, "GET", "k")).status,
      (await rest.send(rest.db().rest_token, "GET", "k")).status,
    ];
    assert.deepStrictEqual(await statuses(), [401, 200]);
    await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
    assert.deepStrictEqual(await statuses(), [401, 200]);
    const off = await control("POST", "data-plane", {
      type: "redis",
      id: FIXTURE_IDS.redis,
      refuse: [],
    });
    assert.deepStrictEqual(off.json<{ switch: DataPlaneSwitch }>().switch, {});
    assert.deepStrictEqual(await statuses(), [200, 200]);
    for (const refuse of [["apiKey"], "password", [7]]) {
      const bad = await control("POST", "data-plane", {
        type: "redis",
        id: FIXTURE_IDS.redis,
        refuse,
      });
      assert.strictEqual(bad.status, 400, JSON.stringify(refuse));
      assert.match(
        bad.text,
        /refuse lists credentials: password, rest_token, read_only_rest_token/,
      );
    }
  });

  it("an unknown control endpoint is a plain-text 404, and control calls are not logged", async () => {
    const reply = await control("GET", "nope");
    assert.strictEqual(reply.status, 404);
    assert.strictEqual(reply.text, "unknown control endpoint");
    assert.strictEqual(ctx.emulator.log.length, 0);
  });
});

import assert from "assert";
import {
  FIXTURE_IDS,
  type QStashUser,
  type RedisDatabase,
  type RestIndex,
} from "../../emulator/state";
import { useEmulatorOverHttp } from "./http";

const CREDENTIALS = ["password", "rest_token", "read_only_rest_token"] as const;

describe("emulator: the Developer API's credential endpoints over HTTP", () => {
  const ctx = useEmulatorOverHttp();

  describe("Redis", () => {
    const path = `/v2/redis/database/${FIXTURE_IDS.redis}`;

    it("GET /v2/redis/databases lists every database, credentials included", async () => {
      const added = (
        await ctx.call("POST", "/_emulator/targets", { body: JSON.stringify({ type: "redis" }) })
      ).json<RedisDatabase>();
      const reply = await ctx.call("GET", "/v2/redis/databases");
      assert.strictEqual(reply.status, 200);
      assert.match(reply.contentType, /^application\/json/);
      const list = reply.json<RedisDatabase[]>();
      assert.deepStrictEqual(
        list.map((db) => db.database_id),
        [FIXTURE_IDS.redis, added.database_id],
      );
      assert.deepStrictEqual(list[0], ctx.emulator.data.redis.get(FIXTURE_IDS.redis));
      for (const field of CREDENTIALS) assert.ok(list[1][field], field);
    });

    it("GET /v2/redis/database/{id} answers the documented Database shape with credentials", async () => {
      const reply = await ctx.call("GET", path);
      assert.strictEqual(reply.status, 200);
      const db = reply.json<RedisDatabase>();
      assert.deepStrictEqual(db, ctx.emulator.data.redis.get(FIXTURE_IDS.redis));
      for (const field of CREDENTIALS) assert.strictEqual(typeof db[field], "string", field);
      // A few fields of the OpenAPI Database schema.
      assert.strictEqual(db.region, "global");
      assert.strictEqual(db.primary_region, "eu-central-1");
      assert.strictEqual(db.state, "active");
      assert.strictEqual(typeof db.db_max_clients, "number");
    });

    it("?credentials=hide removes password, rest_token and read_only_rest_token only", async () => {
      const full = (await ctx.call("GET", path)).json<Record<string, unknown>>();
      const reply = await ctx.call("GET", `${path}?credentials=hide`);
      assert.strictEqual(reply.status, 200);
      const hidden = reply.json<Record<string, unknown>>();
      for (const field of CREDENTIALS) assert.ok(!(field in hidden), `${field} is hidden`);
      for (const secret of CREDENTIALS.map((field) => String(full[field]))) {
        assert.ok(!reply.text.includes(secret));
      }
      const { password: _p, rest_token: _r, read_only_rest_token: _ro, ...rest } = full;
      assert.deepStrictEqual(hidden, rest);
      // The stored database keeps its credentials.
      assert.strictEqual(ctx.emulator.data.redis.get(FIXTURE_IDS.redis)?.password, full.password);
    });

    it("other credentials= values, and other query parameters, leave the credentials in", async () => {
      for (const query of ["credentials=show", "credentials=HIDE", "credentials=", "x=hide"]) {
        const db = (await ctx.call("GET", `${path}?${query}`)).json<RedisDatabase>();
        for (const field of CREDENTIALS) assert.ok(db[field], `${query}: ${field}`);
      }
    });

    it("POST /v2/redis/reset-password/{id} answers new credentials, which get and list then show", async () => {
      const before = (await ctx.call("GET", path)).json<RedisDatabase>();
      const reply = await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
      assert.strictEqual(reply.status, 200);
      const after = reply.json<RedisDatabase>();
      for (const field of CREDENTIALS) assert.notStrictEqual(after[field], before[field], field);
      assert.strictEqual(after.database_id, FIXTURE_IDS.redis);
      assert.deepStrictEqual((await ctx.call("GET", path)).json(), after);
      assert.deepStrictEqual((await ctx.call("GET", "/v2/redis/databases")).json(), [after]);
      assert.ok(!ctx.emulator.isCurrentCredential(before.rest_token));
      assert.ok(ctx.emulator.isCurrentCredential(after.rest_token));
      assert.strictEqual(ctx.emulator.rotations(/reset-password/).length, 1);
    });

    it('DELETE /v2/redis/database/{id} answers "OK", then the database is gone', async () => {
      const reply = await ctx.call("DELETE", path);
      assert.strictEqual(reply.status, 200);
      assert.strictEqual(reply.json(), "OK");
      assert.strictEqual((await ctx.call("GET", path)).status, 404);
      assert.deepStrictEqual((await ctx.call("GET", "/v2/redis/databases")).json(), []);
    });
  });

  for (const [kind, base] of [
    ["vector", "/v2/vector/index"],
    ["search", "/v2/search"],
  ] as const) {
    describe(kind, () => {
      const id = FIXTURE_IDS[kind];

      it(`GET ${base} lists every index, tokens included`, async () => {
        const reply = await ctx.call("GET", base);
        assert.strictEqual(reply.status, 200);
        const list = reply.json<RestIndex[]>();
        assert.strictEqual(list.length, 1);
        assert.deepStrictEqual(list[0], ctx.emulator.data[kind].get(id));
        assert.ok(list[0].token && list[0].read_only_token);
      });

      it(`GET ${base}/{id} answers the index`, async () => {
        const index = (await ctx.call("GET", `${base}/${id}`)).json<RestIndex>();
        assert.strictEqual(index.id, id);
        assert.strictEqual(index.customer_id, ctx.emulator.data.account.email);
        assert.deepStrictEqual(index, ctx.emulator.data[kind].get(id));
      });

      it(`POST ${base}/{id}/reset-password answers "OK" (JSON) and get and list show new tokens`, async () => {
        const before = (await ctx.call("GET", `${base}/${id}`)).json<RestIndex>();
        const reply = await ctx.call("POST", `${base}/${id}/reset-password`);
        assert.strictEqual(reply.status, 200);
        assert.match(reply.contentType, /^application\/json/);
        assert.strictEqual(reply.text, '"OK"');
        const after = (await ctx.call("GET", `${base}/${id}`)).json<RestIndex>();
        assert.notStrictEqual(after.token, before.token);
        assert.notStrictEqual(after.read_only_token, before.read_only_token);
        assert.deepStrictEqual((await ctx.call("GET", base)).json(), [after]);
        assert.ok(!ctx.emulator.isCurrentCredential(before.token));
        assert.strictEqual(ctx.emulator.rotations().length, 1);
      });

      it(`DELETE ${base}/{id} answers "OK", then the index is gone`, async () => {
        assert.strictEqual((await ctx.call("DELETE", `${base}/${id}`)).text, '"OK"');
        assert.strictEqual((await ctx.call("GET", `${base}/${id}`)).status, 404);
      });
    });
  }

  describe("QStash", () => {
    const userPath = `/v2/qstash/user/${FIXTURE_IDS.qstash}`;

    it("GET /v2/qstash/users lists the users; GET /v2/qstash/user/{id} answers one", async () => {
      const list = await ctx.call("GET", "/v2/qstash/users");
      assert.strictEqual(list.status, 200);
      const users = list.json<QStashUser[]>();
      assert.deepStrictEqual(
        users.map((user) => user.id),
        [FIXTURE_IDS.qstash],
      );
      const user = (await ctx.call("GET", userPath)).json<QStashUser>();
      assert.deepStrictEqual(user, users[0]);
      assert.ok(user.token && user.read_only_token && user.password);
      assert.strictEqual(typeof user.max_requests_per_day, "number");
    });

    it("POST /v2/qstash/rotate-token/{id} answers the user with a new token, password and read-only token", async () => {
      const before = (await ctx.call("GET", userPath)).json<QStashUser>();
      const reply = await ctx.call("POST", `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`);
      assert.strictEqual(reply.status, 200);
      const after = reply.json<QStashUser>();
      for (const field of ["token", "read_only_token", "password"] as const) {
        assert.notStrictEqual(after[field], before[field], field);
      }
      assert.deepStrictEqual((await ctx.call("GET", userPath)).json(), after);
      assert.deepStrictEqual((await ctx.call("GET", "/v2/qstash/users")).json(), [after]);
    });

    it("the legacy account-level API: GET /qstash/user and POST /qstash/user/rotatetoken", async () => {
      const user = (await ctx.call("GET", "/qstash/user")).json<QStashUser>();
      assert.deepStrictEqual(user, ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash));
      const reply = await ctx.call("POST", "/qstash/user/rotatetoken");
      assert.strictEqual(reply.status, 200);
      const rotated = reply.json<QStashUser>();
      assert.strictEqual(rotated.id, FIXTURE_IDS.qstash);
      assert.notStrictEqual(rotated.token, user.token);
      assert.notStrictEqual(rotated.password, user.password);
      assert.deepStrictEqual((await ctx.call("GET", "/qstash/user")).json(), rotated);
      assert.deepStrictEqual((await ctx.call("GET", userPath)).json(), rotated);
    });

    it("with legacyQStashOnly, every v2 QStash path is Go's plain 404 and the legacy API still works", async () => {
      ctx.emulator.legacyQStashOnly = true;
      for (const [method, path] of [
        ["GET", "/v2/qstash/users"],
        ["GET", userPath],
        ["POST", `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`],
      ]) {
        const reply = await ctx.call(method, path);
        assert.strictEqual(reply.status, 404, path);
        assert.strictEqual(reply.text, "404 page not found\n");
        assert.match(reply.contentType, /^text\/plain/);
      }
      assert.strictEqual(ctx.emulator.rotations().length, 0);
      assert.strictEqual((await ctx.call("POST", "/qstash/user/rotatetoken")).status, 200);
    });
  });

  describe("query strings", () => {
    const every: [string, string][] = [
      ["GET", "/v2/redis/databases"],
      ["GET", `/v2/redis/database/${FIXTURE_IDS.redis}`],
      ["POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`],
      ["GET", "/v2/vector/index"],
      ["GET", `/v2/vector/index/${FIXTURE_IDS.vector}`],
      ["POST", `/v2/vector/index/${FIXTURE_IDS.vector}/reset-password`],
      ["GET", "/v2/search"],
      ["GET", `/v2/search/${FIXTURE_IDS.search}`],
      ["POST", `/v2/search/${FIXTURE_IDS.search}/reset-password`],
      ["GET", "/v2/qstash/users"],
      ["GET", `/v2/qstash/user/${FIXTURE_IDS.qstash}`],
      ["POST", `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`],
      ["GET", "/qstash/user"],
      ["POST", "/qstash/user/rotatetoken"],
    ];

    it("do not change which route answers, and the log keeps the bare path", async () => {
      for (const [method, path] of every) {
        const reply = await ctx.call(method, `${path}?x=y&credentials=show&empty=`);
        assert.strictEqual(reply.status, 200, `${method} ${path}`);
        assert.doesNotThrow(() => reply.json(), `${method} ${path} answers JSON`);
      }
      assert.deepStrictEqual(
        ctx.emulator.log.map((entry) => `${entry.method} ${entry.path} ${entry.status}`),
        every.map(([method, path]) => `${method} ${path} 200`),
      );
      assert.strictEqual(ctx.emulator.rotations().length, 5);
    });

    it("faults still match on the path when a query string is present", async () => {
      ctx.emulator.faults = [{ kind: "status", status: 503, path: "^/v2/redis/databases$" }];
      assert.strictEqual((await ctx.call("GET", "/v2/redis/databases?page=2")).status, 503);
    });
  });

  it("percent-encoded ids are decoded before the lookup", async () => {
    const created = await ctx.call("POST", "/_emulator/targets", {
      body: JSON.stringify({ type: "search", id: "my index/1" }),
    });
    assert.strictEqual(created.status, 200);
    const reply = await ctx.call("GET", `/v2/search/${encodeURIComponent("my index/1")}`);
    assert.strictEqual(reply.status, 200);
    assert.strictEqual(reply.json<RestIndex>().id, "my index/1");
  });

  it("HEAD on a GET endpoint answers its status without a body", async () => {
    const reply = await ctx.call("HEAD", "/v2/redis/databases");
    assert.strictEqual(reply.status, 200);
    assert.strictEqual(reply.text, "");
  });
});

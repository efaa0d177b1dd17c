import assert from "assert";
import {
  dataPlaneHostUrl,
  dataPlaneUrl,
  indexHost,
  qstashHost,
  qstashHosts,
  redisHost,
  type DataPlaneSwitch,
} from "../../emulator/server";
import { FIXTURE_IDS, type QStashUser, type RestIndex } from "../../emulator/state";
import { redisRest } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";

interface SigningKeys {
  current: string;
  next: string;
}

describe("emulator: Vector, Search and QStash data planes; switches, log and faults", () => {
  const ctx = useEmulatorOverHttp();
  const bearer = (token: string) => `Bearer ${token}`;

  it("dataPlaneUrl and the host helpers", () => {
    assert.strictEqual(dataPlaneUrl("http://127.0.0.1:1"), "http://127.0.0.1:1/data-plane");
    assert.strictEqual(
      dataPlaneHostUrl("http://127.0.0.1:1", "h.upstash.io"),
      "http://127.0.0.1:1/data-plane/h.upstash.io",
    );
    const { redis, vector, search, qstash } = ctx.emulator.data;
    assert.strictEqual(
      redisHost(redis.get(FIXTURE_IDS.redis)!),
      "eu2-emulated-96ad0856.upstash.io",
    );
    assert.strictEqual(
      indexHost("vector", vector.get(FIXTURE_IDS.vector)!),
      "emulated-vector-0639864f-us1-vector.upstash.io",
    );
    assert.strictEqual(
      indexHost("search", search.get(FIXTURE_IDS.search)!),
      "emulated-search-99a4c327-us1-search.upstash.io",
    );
    assert.strictEqual(qstashHost(qstash.get(FIXTURE_IDS.qstash)!), "qstash.upstash.io");
    assert.deepStrictEqual(qstashHosts("us-east-1"), ["qstash-us-east-1.upstash.io"]);
    // An endpoint that already is a host is used as it is.
    const index = { ...vector.get(FIXTURE_IDS.vector)!, endpoint: "x-vector.example.io" };
    assert.strictEqual(indexHost("vector", index), "x-vector.example.io");
  });

  it("an unknown host is a 404; GET /_emulator/data-plane lists every target's hosts", async () => {
    const reply = await ctx.call("GET", "/data-plane/nowhere.upstash.io/info", {
      authorization: null,
    });
    assert.strictEqual(reply.status, 404);
    assert.deepStrictEqual(reply.json(), { error: 'unknown data-plane host "nowhere.upstash.io"' });
    const views = (await ctx.call("GET", "/_emulator/data-plane", { authorization: null })).json<
      { type: string; id: string; hosts: string[] }[]
    >();
    assert.deepStrictEqual(
      views.map((view) => [view.type, view.id, view.hosts]),
      [
        ["redis", FIXTURE_IDS.redis, ["eu2-emulated-96ad0856.upstash.io"]],
        ["vector", FIXTURE_IDS.vector, ["emulated-vector-0639864f-us1-vector.upstash.io"]],
        ["search", FIXTURE_IDS.search, ["emulated-search-99a4c327-us1-search.upstash.io"]],
        ["qstash", FIXTURE_IDS.qstash, ["qstash.upstash.io", "qstash-eu-central-1.upstash.io"]],
      ],
    );
  });

  for (const kind of ["vector", "search"] as const) {
    describe(`${kind} GET /info`, () => {
      const index = (): RestIndex => ctx.emulator.data[kind].get(FIXTURE_IDS[kind])!;
      const info = (token: string | null, method = "GET") =>
        ctx.call(method, `/data-plane/${indexHost(kind, index())}/info`, {
          authorization: token === null ? null : bearer(token),
        });

      it("answers Vector's documented info shape with the token or the read-only token", async () => {
        for (const token of [index().token, index().read_only_token]) {
          const reply = await info(token);
          assert.strictEqual(reply.status, 200);
          assert.match(reply.contentType, /^application\/json/);
          const { result } = reply.json<{ result: Record<string, unknown> }>();
          assert.strictEqual(result.vectorCount, 0);
          assert.strictEqual(result.pendingVectorCount, 0);
          assert.strictEqual(result.indexSize, 0);
          assert.strictEqual(typeof result.dimension, "number");
          assert.strictEqual(result.similarityFunction, "COSINE");
          assert.deepStrictEqual(result.namespaces, {
            "": { vectorCount: 0, pendingVectorCount: 0 },
          });
        }
      });

      it("401 for no token, an unknown one or the other product's; 501 for other paths", async () => {
        for (const token of [
          null,
          "nope",
          ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token,
        ]) {
          const reply = await info(token);
          assert.strictEqual(reply.status, 401, String(token));
          assert.ok(reply.json<{ error: string }>().error);
        }
        const other = await ctx.call("POST", `/data-plane/${indexHost(kind, index())}/range`, {
          authorization: bearer(index().token),
        });
        assert.strictEqual(other.status, 501);
      });

      it("after a Developer API reset-password the old tokens get 401, the new ones 200", async () => {
        const before = { ...index() };
        const path =
          kind === "vector" ? `/v2/vector/index/${before.id}` : `/v2/search/${before.id}`;
        assert.strictEqual((await ctx.call("POST", `${path}/reset-password`)).status, 200);
        assert.strictEqual((await info(before.token)).status, 401);
        assert.strictEqual((await info(before.read_only_token)).status, 401);
        const after = (await ctx.call("GET", path)).json<RestIndex>();
        assert.strictEqual((await info(after.token)).status, 200);
        assert.strictEqual((await info(after.read_only_token)).status, 200);
      });
    });
  }

  describe("QStash signing keys", () => {
    const user = (): QStashUser => ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!;
    const keys = (token: string, host = "qstash.upstash.io") =>
      ctx.call("GET", `/data-plane/${host}/v2/keys`, { authorization: bearer(token) });
    const rotate = (token: string, host = "qstash.upstash.io") =>
      ctx.call("POST", `/data-plane/${host}/v2/keys/rotate`, { authorization: bearer(token) });

    it("GET /v2/keys answers {current, next} with the token or the read-only token, on both EU hosts", async () => {
      const first = await keys(user().token);
      assert.strictEqual(first.status, 200);
      const pair = first.json<SigningKeys>();
      assert.deepStrictEqual(Object.keys(pair), ["current", "next"]);
      assert.match(pair.current, /^sig_[1-9A-Za-z]{20,}$/);
      assert.notStrictEqual(pair.current, pair.next);
      assert.deepStrictEqual((await keys(user().read_only_token)).json(), pair);
      assert.deepStrictEqual(
        (await keys(user().token, "qstash-eu-central-1.upstash.io")).json(),
        pair,
      );
      // ?qstash_token= works like the header.
      const query = await ctx.call(
        "GET",
        `/data-plane/qstash.upstash.io/v2/keys?qstash_token=${user().token}`,
        {
          authorization: null,
        },
      );
      assert.deepStrictEqual(query.json(), pair);
      // The Developer API's user has no signing keys.
      const apiUser = await ctx.call("GET", `/v2/qstash/user/${FIXTURE_IDS.qstash}`);
      assert.ok(!apiUser.text.includes(pair.current) && !apiUser.text.includes(pair.next));
    });

    it("POST /v2/keys/rotate: current := old next, next := fresh; the read-only token may not", async () => {
      const before = (await keys(user().token)).json<SigningKeys>();
      const refused = await rotate(user().read_only_token);
      assert.strictEqual(refused.status, 403);
      assert.ok(refused.json<{ error: string }>().error);
      const reply = await rotate(user().token);
      assert.strictEqual(reply.status, 200);
      const after = reply.json<SigningKeys>();
      assert.strictEqual(after.current, before.next);
      assert.ok(![before.current, before.next].includes(after.next));
      assert.deepStrictEqual((await keys(user().token)).json(), after);
      const twice = (await rotate(user().token)).json<SigningKeys>();
      assert.ok(![before.current, before.next].includes(twice.current));
    });

    it("401 {error} for an unknown token, another region's host, or a token rotated away", async () => {
      for (const reply of [
        await keys("nope"),
        await keys(user().token, "qstash-us-east-1.upstash.io"),
      ]) {
        assert.strictEqual(reply.status, 401);
        assert.ok(reply.json<{ error: string }>().error);
      }
      const before = (await keys(user().token)).json<SigningKeys>();
      const old = user().token;
      assert.strictEqual(
        (await ctx.call("POST", `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`)).status,
        200,
      );
      assert.strictEqual((await keys(old)).status, 401);
      // Rotating the token leaves the signing keys alone (unverified on the real service).
      assert.deepStrictEqual((await keys(user().token)).json(), before);
    });

    it("users sharing a regional host are told apart by their token", async () => {
      const added = (
        await ctx.call("POST", "/_emulator/targets", {
          authorization: null,
          body: '{"type":"qstash"}',
        })
      ).json<QStashUser>();
      const us = ctx.emulator.data.qstash.get(added.id)!;
      const mine = (await keys(user().token)).json<SigningKeys>();
      const theirs = (await keys(us.token)).json<SigningKeys>();
      assert.notDeepStrictEqual(mine, theirs);
      await rotate(us.token);
      assert.deepStrictEqual((await keys(user().token)).json(), mine);
      us.region = "us-east-1";
      assert.strictEqual((await keys(us.token)).status, 401);
      assert.strictEqual((await keys(us.token, "qstash-us-east-1.upstash.io")).status, 200);
    });
  });

  describe("the request log and faults", () => {
    it("data-plane requests are logged with plane: data, rotated: false, and no bodies or tokens", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "+@all");
      await rest.send("nope", "PING");
      await ctx.call("GET", "/v2/redis/databases");
      const log = ctx.emulator.log;
      assert.deepStrictEqual(
        log.map((entry) => [entry.method, entry.path, entry.status, entry.rotated, entry.plane]),
        [
          ["POST", rest.path(), 200, false, "data"],
          ["POST", rest.path(), 200, false, "data"],
          ["POST", rest.path(), 401, false, "data"],
          ["GET", "/v2/redis/databases", 200, false, undefined],
        ],
      );
      const text = JSON.stringify(log);
      assert.ok(!text.includes(token) && !text.includes(rest.db().rest_token));
      assert.strictEqual(ctx.emulator.rotations().length, 0);
    });

    it("faults apply to the data plane, matched on the full emulator path and method", async () => {
      const rest = redisRest(ctx);
      ctx.emulator.faults = [
        { kind: "status", status: 503, path: "^/data-plane/eu2-", method: "POST", times: 1 },
        { kind: "malformed-json", path: "^/data-plane/.*/info$", times: 1 },
      ];
      const failed = await ctx.call("POST", rest.path(), {
        authorization: `Bearer ${rest.db().rest_token}`,
        body: '["PING"]',
      });
      assert.strictEqual(failed.status, 503);
      assert.strictEqual(ctx.emulator.log[0].fault, "status");
      assert.strictEqual((await rest.admin("PING")).status, 200);
      const index = ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!;
      const info = await ctx.call("GET", `/data-plane/${indexHost("vector", index)}/info`, {
        authorization: bearer(index.token),
      });
      assert.throws(() => info.json());
      // A Developer API fault on ^/v2/ leaves the data plane alone.
      ctx.emulator.faults = [{ kind: "status", status: 500, path: "^/v2/" }];
      assert.strictEqual((await rest.admin("PING")).status, 200);
    });

    it("the Developer API rate limit and Basic auth do not apply to the data plane", async () => {
      ctx.emulator.rateLimitPerSecond = 1;
      const rest = redisRest(ctx);
      for (let i = 0; i < 5; i++) assert.strictEqual((await rest.admin("PING")).status, 200);
    });
  });

  describe("per-target switches", () => {
    const setSwitch = (type: string, id: string, body: Record<string, unknown>) =>
      ctx.call("POST", "/_emulator/data-plane", {
        authorization: null,
        body: JSON.stringify({ type, id, ...body }),
      });

    it("reject: unauthorized / unavailable refuse even valid tokens; an empty switch clears it", async () => {
      const rest = redisRest(ctx);
      const reply = await setSwitch("redis", FIXTURE_IDS.redis, { reject: "unauthorized" });
      assert.strictEqual(reply.status, 200);
      assert.deepStrictEqual(reply.json<{ switch: DataPlaneSwitch }>().switch, {
        reject: "unauthorized",
      });
      assert.deepStrictEqual(await rest.admin("PING"), {
        status: 401,
        error: "WRONGPASS invalid or missing auth token",
      });
      assert.strictEqual(ctx.emulator.log.at(-1)?.fault, "switch");
      await setSwitch("redis", FIXTURE_IDS.redis, { reject: "unavailable" });
      assert.strictEqual((await rest.admin("PING")).status, 503);
      await setSwitch("redis", FIXTURE_IDS.redis, { reject: null });
      assert.strictEqual((await rest.admin("PING")).status, 200);
      // Other targets were never affected.
      const index = ctx.emulator.data.search.get(FIXTURE_IDS.search)!;
      ctx.emulator.setDataPlaneSwitch("search", FIXTURE_IDS.search, { reject: "unavailable" });
      const info = await ctx.call("GET", `/data-plane/${indexHost("search", index)}/info`, {
        authorization: bearer(index.token),
      });
      assert.strictEqual(info.status, 503);
      assert.strictEqual((await rest.admin("PING")).status, 200);
    });

    it("reject: drop destroys the connection, like a runner without egress", async () => {
      const user = ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!;
      ctx.emulator.setDataPlaneSwitch("qstash", FIXTURE_IDS.qstash, { reject: "drop" });
      await assert.rejects(
        ctx.call("GET", "/data-plane/qstash.upstash.io/v2/keys", {
          authorization: bearer(user.token),
        }),
      );
    });

    it("freshTokenRejections: a token issued after the switch gets 401 on its first N requests", async () => {
      const rest = redisRest(ctx);
      const settled = await rest.gentoken("old");
      await rest.admin("ACL", "SETUSER", "old", "on", `>${settled}`, "+@all");
      const reply = await setSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 2 });
      assert.deepStrictEqual(reply.json<{ switch: DataPlaneSwitch }>().switch, {
        freshTokenRejections: 2,
      });
      // Tokens valid when the switch was set are not delayed.
      assert.strictEqual(await rest.status(settled), 200);
      assert.strictEqual((await rest.admin("PING")).status, 200);
      const fresh = await rest.gentoken("new");
      await rest.admin("ACL", "SETUSER", "new", "on", `>${fresh}`, "+@all");
      assert.strictEqual(await rest.status(fresh), 401);
      assert.strictEqual(await rest.status(fresh), 401);
      assert.strictEqual(await rest.status(fresh), 200);
      // An invalid token stays invalid, and does not use up anything.
      assert.strictEqual(await rest.status("nope"), 401);
      // The same for a Developer API reset of an index.
      ctx.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, { freshTokenRejections: 1 });
      await ctx.call("POST", `/v2/vector/index/${FIXTURE_IDS.vector}/reset-password`);
      const index = ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!;
      const info = () =>
        ctx.call("GET", `/data-plane/${indexHost("vector", index)}/info`, {
          authorization: bearer(index.token),
        });
      assert.strictEqual((await info()).status, 401);
      assert.strictEqual((await info()).status, 200);
    });

    it("the control API validates its input; reset() clears every switch", async () => {
      assert.strictEqual((await setSwitch("redis", "no-such-id", { reject: "drop" })).status, 404);
      assert.strictEqual((await setSwitch("kafka", "x", {})).status, 400);
      assert.strictEqual(
        (await setSwitch("redis", FIXTURE_IDS.redis, { reject: "sometimes" })).status,
        400,
      );
      assert.strictEqual(
        (await setSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: -1 })).status,
        400,
      );
      assert.strictEqual(
        (await setSwitch("vector", FIXTURE_IDS.vector, { aclEnabled: false })).status,
        400,
      );
      assert.ok(!ctx.emulator.setDataPlaneSwitch("redis", "no-such-id", { reject: "drop" }));
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "unavailable" });
      ctx.emulator.reset();
      assert.strictEqual((await redisRest(ctx).admin("PING")).status, 200);
    });
  });
});

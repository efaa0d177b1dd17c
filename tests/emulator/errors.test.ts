import assert from "assert";
import { acceptsJson } from "../../emulator/routes";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { basic, useEmulatorOverHttp } from "./http";

describe("emulator: error statuses and bodies", () => {
  const ctx = useEmulatorOverHttp();
  const dbPath = `/v2/redis/database/${FIXTURE_IDS.redis}`;

  describe("401 for bad Basic auth", () => {
    const cases: [string, string | null][] = [
      ["no Authorization header", null],
      ["a wrong API key", basic(DEFAULT_ACCOUNT.email, "wrong-key")],
      ["a wrong email", basic("someone@example.com", DEFAULT_ACCOUNT.apiKey)],
      ["no colon", `Basic ${Buffer.from(DEFAULT_ACCOUNT.email).toString("base64")}`],
      ["a Bearer token", `Bearer ${DEFAULT_ACCOUNT.apiKey}`],
    ];
    for (const [name, authorization] of cases) {
      it(`${name}: 401 "Unauthorized" with a Basic challenge, and nothing rotated`, async () => {
        const reply = await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`, {
          authorization,
        });
        assert.strictEqual(reply.status, 401);
        assert.strictEqual(reply.text, "Unauthorized");
        assert.match(reply.contentType, /^text\/plain/);
        assert.match(reply.headers.get("www-authenticate") ?? "", /^Basic /);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
        assert.strictEqual(ctx.emulator.log[0].fault, "unauthorized");
      });
    }

    it("the account set by reset is the one that authenticates", async () => {
      ctx.emulator.reset({ email: "other@example.com", apiKey: "other-key" });
      assert.strictEqual((await ctx.call("GET", "/v2/redis/databases")).status, 401);
      const reply = await ctx.call("GET", "/v2/redis/databases", {
        authorization: basic("other@example.com", "other-key"),
      });
      assert.strictEqual(reply.status, 200);
    });
  });

  describe("404", () => {
    const unknown: [string, string, string][] = [
      ["GET", "/v2/redis/database/no-such-id", "database not found"],
      ["GET", "/v2/redis/database/no-such-id?credentials=hide", "database not found"],
      ["POST", "/v2/redis/reset-password/no-such-id", "database not found"],
      ["GET", "/v2/vector/index/no-such-id", "index not found"],
      ["POST", "/v2/vector/index/no-such-id/reset-password", "index not found"],
      ["GET", "/v2/search/no-such-id", "search index not found"],
      ["POST", "/v2/search/no-such-id/reset-password", "search index not found"],
      ["GET", "/v2/qstash/user/no-such-id", "qstash user not found"],
      ["POST", "/v2/qstash/rotate-token/no-such-id", "qstash user not found"],
    ];
    for (const [method, path, error] of unknown) {
      it(`${method} ${path}: 404 {"error": "${error}"}`, async () => {
        const reply = await ctx.call(method, path);
        assert.strictEqual(reply.status, 404);
        assert.match(reply.contentType, /^application\/json/);
        assert.deepStrictEqual(reply.json(), { error });
      });
    }

    it("the legacy QStash API without any user: 404 JSON", async () => {
      ctx.emulator.data.qstash.clear();
      for (const [method, path] of [
        ["GET", "/qstash/user"],
        ["POST", "/qstash/user/rotatetoken"],
      ]) {
        const reply = await ctx.call(method, path);
        assert.strictEqual(reply.status, 404);
        assert.deepStrictEqual(reply.json(), { error: "qstash user not found" });
      }
    });

    for (const path of [
      "/",
      "/v2/nope",
      "/v2/redis/database/",
      "/v2/redis/databases/extra",
      "/v2/redis/database/x/y",
      "/redis/databases",
      "/v2/qstash/user",
    ]) {
      it(`unknown path ${path}: Go's plain "404 page not found"`, async () => {
        const reply = await ctx.call("GET", path);
        assert.strictEqual(reply.status, 404);
        assert.strictEqual(reply.text, "404 page not found\n");
        assert.match(reply.contentType, /^text\/plain; charset=utf-8/);
      });
    }
  });

  describe("405 for a known path with a wrong method", () => {
    const cases: [string, string, string][] = [
      ["POST", "/v2/redis/databases", "GET, HEAD"],
      ["PUT", dbPath, "GET, HEAD, DELETE"],
      ["GET", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`, "POST"],
      ["DELETE", "/v2/vector/index", "GET, HEAD, POST"],
      ["GET", `/v2/vector/index/${FIXTURE_IDS.vector}/reset-password`, "POST"],
      ["PATCH", `/v2/search/${FIXTURE_IDS.search}`, "GET, HEAD, DELETE"],
      ["GET", `/v2/search/${FIXTURE_IDS.search}/reset-password`, "POST"],
      ["DELETE", "/v2/qstash/users", "GET, HEAD"],
      ["GET", `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`, "POST"],
      ["POST", "/qstash/user", "GET, HEAD"],
      ["GET", "/qstash/user/rotatetoken", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      it(`${method} ${path}: 405 "Method Not Allowed", Allow: ${allow}`, async () => {
        const reply = await ctx.call(method, path);
        assert.strictEqual(reply.status, 405);
        assert.strictEqual(reply.text, "Method Not Allowed\n");
        assert.strictEqual(reply.headers.get("allow"), allow);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
      });
    }
  });

  describe("406 when Accept excludes JSON", () => {
    for (const accept of ["text/html", "text/plain, text/*", "application/json;q=0", "image/*"]) {
      it(`Accept: ${accept} → 406 plain text, and a reset is not done`, async () => {
        const before = ctx.emulator.data.redis.get(FIXTURE_IDS.redis)?.password;
        const reply = await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`, {
          headers: { Accept: accept },
        });
        assert.strictEqual(reply.status, 406);
        assert.match(reply.text, /^Not Acceptable/);
        assert.match(reply.contentType, /^text\/plain/);
        assert.strictEqual(ctx.emulator.data.redis.get(FIXTURE_IDS.redis)?.password, before);
        assert.strictEqual(ctx.emulator.rotations().length, 0);
      });
    }

    for (const accept of [
      "application/json",
      "*/*",
      "application/*",
      "text/html, application/json;q=0.5",
      "Application/JSON; charset=utf-8",
      "application/json, text/plain, */*",
    ]) {
      it(`Accept: ${accept} → 200`, async () => {
        const reply = await ctx.call("GET", dbPath, { headers: { Accept: accept } });
        assert.strictEqual(reply.status, 200);
      });
    }

    it("acceptsJson: no header or an empty one accepts anything", () => {
      assert.strictEqual(acceptsJson(undefined), true);
      assert.strictEqual(acceptsJson(""), true);
      assert.strictEqual(acceptsJson("text/html;q=1, application/xml"), false);
      assert.strictEqual(acceptsJson("*/*;q=0"), false);
      assert.strictEqual(acceptsJson("*/*;q=0.1"), true);
    });

    it("an unknown path is still a 404, a wrong method still a 405", async () => {
      const headers = { Accept: "text/html" };
      assert.strictEqual((await ctx.call("GET", "/v2/nope", { headers })).status, 404);
      assert.strictEqual((await ctx.call("PUT", dbPath, { headers })).status, 405);
    });
  });

  it("400 for a path that is not validly percent-encoded", async () => {
    const reply = await ctx.call("GET", "/v2/redis/database/%zz");
    assert.strictEqual(reply.status, 400);
    assert.deepStrictEqual(reply.json(), { error: "malformed path: invalid percent-encoding" });
  });

  for (const [method, path] of [
    ["POST", "/v2/vector/index"],
    ["POST", "/v2/search"],
  ]) {
    it(`501 for ${method} ${path}, an operation of the API that is not emulated`, async () => {
      const reply = await ctx.call(method, path, { body: "{}" });
      assert.strictEqual(reply.status, 501);
      assert.deepStrictEqual(reply.json(), { error: `${method} ${path} is not emulated` });
    });
  }

  it("429 over the rate limit, with Retry-After and a JSON error", async () => {
    ctx.emulator.rateLimitPerSecond = 1;
    assert.strictEqual((await ctx.call("GET", dbPath)).status, 200);
    const reply = await ctx.call("GET", dbPath);
    assert.strictEqual(reply.status, 429);
    assert.deepStrictEqual(reply.json(), { error: "Too many requests" });
    assert.match(reply.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  });
});

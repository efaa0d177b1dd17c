import assert from "assert";
import { FIXTURE_IDS, type RedisDatabase } from "../../emulator/state";
import { aclRotationSequence, EXPECTED_SEQUENCE } from "./aclSequence";
import { redisRest, sha256 } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";

const WRONGPASS = { error: "WRONGPASS invalid or missing auth token" };
const MUST_GENTOKEN = "passwords must be generated with ACL GENTOKEN";

/** GETUSER of a user with nothing set: what a bare SETUSER creates and `reset` leaves. */
const BLANK_USER = [
  "flags",
  ["off"],
  "passwords",
  [],
  "commands",
  "-@all",
  "keys",
  "",
  "channels",
  "",
];

describe("emulator: the Redis REST data plane", () => {
  const ctx = useEmulatorOverHttp();

  describe("commands with the database's rest_token", () => {
    it("PING, SET, GET, DEL over POST / with a JSON array", async () => {
      const rest = redisRest(ctx);
      assert.deepStrictEqual(await rest.admin("PING"), { status: 200, result: "PONG" });
      assert.deepStrictEqual(await rest.admin("SET", "k", "v"), { status: 200, result: "OK" });
      assert.deepStrictEqual(await rest.admin("GET", "k"), { status: 200, result: "v" });
      assert.deepStrictEqual(await rest.admin("DEL", "k", "absent"), { status: 200, result: 1 });
      assert.deepStrictEqual(await rest.admin("GET", "k"), { status: 200, result: null });
      // Numbers in the array are arguments too (the documented ["SET","foo","bar","EX",100]).
      assert.deepStrictEqual(await rest.admin("SET", "n", 41, "EX", 100), {
        status: 200,
        result: "OK",
      });
      assert.deepStrictEqual(await rest.admin("INCR", "n"), { status: 200, result: 42 });
      assert.deepStrictEqual(await rest.admin("SET", "n", "x", "NX"), {
        status: 200,
        result: null,
      });
    });

    it("each database has its own key store", async () => {
      const other = (
        await ctx.call("POST", "/_emulator/targets", { body: JSON.stringify({ type: "redis" }) })
      ).json<RedisDatabase>();
      await redisRest(ctx).admin("SET", "k", "first");
      const second = redisRest(ctx, other.database_id);
      assert.deepStrictEqual(await second.admin("GET", "k"), { status: 200, result: null });
      // The first database's token is not the second's.
      const crossed = await second.send(
        ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token,
        "PING",
      );
      assert.deepStrictEqual(crossed, { status: 401, ...WRONGPASS });
    });

    it("the path form (GET /ping, GET /get/k, POST /set/k with the value as body) and /pipeline", async () => {
      const rest = redisRest(ctx);
      const auth = `Bearer ${rest.db().rest_token}`;
      const ping = await ctx.call("GET", rest.path("/ping"), { authorization: auth });
      assert.deepStrictEqual(ping.json(), { result: "PONG" });
      await ctx.call("POST", rest.path("/set/a%2Fb"), { authorization: auth, body: "v 1" });
      const get = await ctx.call("GET", rest.path("/get/a%2Fb"), { authorization: auth });
      assert.deepStrictEqual(get.json(), { result: "v 1" });
      const pipeline = await ctx.call("POST", rest.path("/pipeline"), {
        authorization: auth,
        body: JSON.stringify([["SET", "p", "1"], ["GET", "p"], ["NOSUCH"]]),
      });
      assert.strictEqual(pipeline.status, 200);
      const replies = pipeline.json<{ result?: unknown; error?: string }[]>();
      assert.deepStrictEqual(replies.slice(0, 2), [{ result: "OK" }, { result: "1" }]);
      assert.match(replies[2].error ?? "", /^ERR unknown command 'NOSUCH'/);
    });

    it("400 {error} for a bad body, an unknown command, a wrong arity or a syntax error", async () => {
      const rest = redisRest(ctx);
      const auth = `Bearer ${rest.db().rest_token}`;
      for (const body of ["", "{", '{"cmd":"PING"}', "[]", "[{}]"]) {
        const reply = await ctx.call("POST", rest.path(), { authorization: auth, body });
        assert.strictEqual(reply.status, 400, body);
        assert.deepStrictEqual(reply.json(), { error: "ERR failed to parse command" }, body);
      }
      assert.match((await rest.admin("NOSUCH", "a")).error ?? "", /^ERR unknown command 'NOSUCH'/);
      assert.deepStrictEqual(await rest.admin("GET"), {
        status: 400,
        error: "ERR wrong number of arguments for 'get' command",
      });
      assert.deepStrictEqual(await rest.admin("SET", "k", "v", "BOGUS"), {
        status: 400,
        error: "ERR syntax error",
      });
      // A real command the emulator does not run says so.
      assert.deepStrictEqual(await rest.admin("HGET", "h", "f"), {
        status: 400,
        error: "ERR 'hget' is not emulated",
      });
    });

    it("405 for a method other than GET or POST", async () => {
      const rest = redisRest(ctx);
      const reply = await ctx.call("PUT", rest.path(), {
        authorization: `Bearer ${rest.db().rest_token}`,
        body: '["PING"]',
      });
      assert.strictEqual(reply.status, 405);
      assert.strictEqual(reply.headers.get("allow"), "GET, POST");
    });
  });

  describe("authentication", () => {
    it("401 WRONGPASS for no token, an unknown token, Basic auth or the Developer API key", async () => {
      const rest = redisRest(ctx);
      assert.deepStrictEqual(await rest.send(null, "PING"), { status: 401, ...WRONGPASS });
      assert.deepStrictEqual(await rest.send("nope", "PING"), { status: 401, ...WRONGPASS });
      assert.deepStrictEqual(await rest.send(rest.db().password, "PING"), {
        status: 401,
        ...WRONGPASS,
      });
      const basic = await ctx.call("POST", rest.path(), { body: '["PING"]' });
      assert.strictEqual(basic.status, 401);
      assert.deepStrictEqual(basic.json(), WRONGPASS);
    });

    it("the read_only_rest_token (default_ro) reads but gets NOPERM for writes and ACL admin", async () => {
      const rest = redisRest(ctx);
      await rest.admin("SET", "k", "v");
      const ro = rest.db().read_only_rest_token;
      assert.deepStrictEqual(await rest.send(ro, "GET", "k"), { status: 200, result: "v" });
      assert.deepStrictEqual(await rest.send(ro, "PING"), { status: 200, result: "PONG" });
      assert.deepStrictEqual(await rest.send(ro, "SET", "k", "w"), {
        status: 400,
        error: "NOPERM this user has no permissions to run the 'set' command",
      });
      assert.deepStrictEqual(await rest.send(ro, "ACL", "GENTOKEN", "x"), {
        status: 400,
        error: "NOPERM this user has no permissions to run the 'acl|gentoken' command",
      });
      assert.deepStrictEqual(await rest.send(ro, "ACL", "WHOAMI"), {
        status: 200,
        result: "default_ro",
      });
      assert.deepStrictEqual(await rest.admin("ACL", "WHOAMI"), { status: 200, result: "default" });
      assert.deepStrictEqual(await rest.admin("GET", "k"), { status: 200, result: "v" });
    });

    it("a Developer API reset-password kills the old tokens and keeps ACL users, their passwords and the keys", async () => {
      const rest = redisRest(ctx);
      const before = { ...rest.db() };
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "allkeys", "+@all");
      await rest.admin("SET", "k", "v");
      const reset = await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
      assert.strictEqual(reset.status, 200);
      const after = reset.json<RedisDatabase>();
      for (const field of ["password", "rest_token", "read_only_rest_token"] as const) {
        assert.notStrictEqual(after[field], before[field], field);
      }
      assert.strictEqual((await rest.send(before.rest_token, "PING")).status, 401);
      assert.strictEqual((await rest.send(before.read_only_rest_token, "PING")).status, 401);
      assert.strictEqual((await rest.send(after.rest_token, "PING")).status, 200);
      assert.strictEqual((await rest.send(after.read_only_rest_token, "GET", "k")).status, 200);
      assert.deepStrictEqual(await rest.send(token, "GET", "k"), { status: 200, result: "v" });
      const getuser = await rest.admin("ACL", "GETUSER", "app");
      assert.deepStrictEqual((getuser.result as unknown[])[3], [sha256(token)]);
      assert.ok(ctx.emulator.isCurrentCredential(token));
    });
  });

  describe("ACL", () => {
    it("the multi-password rotation sequence (research §6) over REST with GENTOKEN'd passwords", async () => {
      const rest = redisRest(ctx);
      const seen = await aclRotationSequence({
        password: (user) => rest.gentoken(user),
        admin: async (args) => neutral(await rest.admin(...args)),
        as: async (_user, password, args) => neutral(await rest.send(password, ...args)),
      });
      assert.deepStrictEqual(seen, EXPECTED_SEQUENCE);
    });

    it("GENTOKEN returns strong, distinct tokens; the user need not exist and is not created", async () => {
      const rest = redisRest(ctx);
      const a = await rest.gentoken("app");
      const b = await rest.gentoken("app");
      assert.notStrictEqual(a, b);
      assert.ok(a.length >= 40 && /^[A-Za-z0-9]+$/.test(a), a);
      assert.deepStrictEqual(await rest.admin("ACL", "GETUSER", "app"), {
        status: 200,
        result: null,
      });
      // Not a credential until it is added with `>`.
      assert.strictEqual(await rest.status(a), 401);
      // A supplied password is checked for strength (the real threshold is undocumented).
      assert.deepStrictEqual(await rest.admin("ACL", "GENTOKEN", "app", "weak"), {
        status: 400,
        error: "ERR password is too weak",
      });
      const withPassword = await rest.admin("ACL", "GENTOKEN", "app", "Str0ng-and-L0ng-Passw0rd");
      assert.strictEqual(withPassword.status, 200);
    });

    it("`>` takes only tokens GENTOKEN generated for this database and user; errors never echo them", async () => {
      const rest = redisRest(ctx);
      const plaintext = "a-plaintext-password-of-some-length";
      const reply = await rest.admin("ACL", "SETUSER", "app", "on", `>${plaintext}`);
      assert.deepStrictEqual(reply, {
        status: 400,
        error: `ERR Error in ACL SETUSER modifier '>…': ${MUST_GENTOKEN}`,
      });
      const forOther = await rest.gentoken("other");
      const crossed = await rest.admin("ACL", "SETUSER", "app", `>${forOther}`);
      assert.strictEqual(crossed.error, `ERR Error in ACL SETUSER modifier '>…': ${MUST_GENTOKEN}`);
      const elsewhere = (
        await ctx.call("POST", "/_emulator/targets", { body: JSON.stringify({ type: "redis" }) })
      ).json<RedisDatabase>();
      const foreign = await redisRest(ctx, elsewhere.database_id).gentoken("app");
      assert.strictEqual(
        (await rest.admin("ACL", "SETUSER", "app", `>${foreign}`)).error,
        `ERR Error in ACL SETUSER modifier '>…': ${MUST_GENTOKEN}`,
      );
      assert.strictEqual(
        (await rest.admin("ACL", "SETUSER", "app", `#${sha256(plaintext)}`)).error,
        `ERR Error in ACL SETUSER modifier '#…': ${MUST_GENTOKEN}`,
      );
      const token = await rest.gentoken("app");
      const absent = await rest.admin("ACL", "SETUSER", "app", `<${token}`);
      assert.strictEqual(
        absent.error,
        "ERR Error in ACL SETUSER modifier '<…': The password you are trying to remove from the user does not exist",
      );
      for (const text of [reply.error, crossed.error, absent.error]) {
        assert.ok(
          !text?.includes(plaintext) && !text?.includes(token) && !text?.includes(forOther),
        );
      }
      // Nothing above created the user: a failing SETUSER changes nothing.
      assert.deepStrictEqual((await rest.admin("ACL", "USERS")).result, ["default"]);
    });

    it("nopass, bad hashes, subcommand rules, unknown commands and categories are refused", async () => {
      const rest = redisRest(ctx);
      const cases: [string, string][] = [
        ["nopass", "every user must have at least one password"],
        [
          "!abc",
          "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
        ],
        [
          `!${"0".repeat(64)}`,
          "The password you are trying to remove from the user does not exist",
        ],
        ["+client|list", "subcommand rules are not supported"],
        ["+nosuchcmd", "Unknown command or category name in ACL"],
        ["+@nosuch", "Unknown command or category name in ACL"],
        ["bogus", "Syntax error"],
      ];
      for (const [rule, error] of cases) {
        const shown = /^[<>#!]/.test(rule) ? `${rule[0]}…` : rule;
        assert.deepStrictEqual(
          await rest.admin("ACL", "SETUSER", "app", rule),
          { status: 400, error: `ERR Error in ACL SETUSER modifier '${shown}': ${error}` },
          rule,
        );
      }
    });

    it("SETUSER is atomic: a failing rule leaves an existing user exactly as it was", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "~*", "+get", "+ping");
      const before = await rest.admin("ACL", "GETUSER", "app");
      const failed = await rest.admin("ACL", "SETUSER", "app", "off", "resetpass", "+@nosuch");
      assert.strictEqual(failed.status, 400);
      assert.deepStrictEqual(await rest.admin("ACL", "GETUSER", "app"), before);
      assert.strictEqual(await rest.status(token), 200);
    });

    it("default can be neither modified nor deleted; DELUSER counts the users it removed", async () => {
      const rest = redisRest(ctx);
      assert.deepStrictEqual(await rest.admin("ACL", "SETUSER", "default", "off"), {
        status: 400,
        error: "ERR The 'default' user cannot be modified",
      });
      assert.deepStrictEqual(await rest.admin("ACL", "DELUSER", "default"), {
        status: 400,
        error: "ERR The 'default' user cannot be removed",
      });
      await rest.admin("ACL", "SETUSER", "u1");
      await rest.admin("ACL", "SETUSER", "u2");
      assert.deepStrictEqual((await rest.admin("ACL", "USERS")).result, ["default", "u1", "u2"]);
      assert.deepStrictEqual(await rest.admin("ACL", "DELUSER", "u1", "u2", "u3"), {
        status: 200,
        result: 2,
      });
      assert.deepStrictEqual((await rest.admin("ACL", "USERS")).result, ["default"]);
      assert.strictEqual((await rest.admin("PING")).status, 200);
    });

    it("GETUSER renders Redis 7's five fields without selectors", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app");
      assert.deepStrictEqual((await rest.admin("ACL", "GETUSER", "app")).result, BLANK_USER);
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "nocommands", "+@write", "+get");
      await rest.admin("ACL", "SETUSER", "app", "~a:*", "~b?", "&news.*");
      assert.deepStrictEqual((await rest.admin("ACL", "GETUSER", "app")).result, [
        "flags",
        ["on"],
        "passwords",
        [sha256(token)],
        "commands",
        "-@all +@write +get",
        "keys",
        "~a:* ~b?",
        "channels",
        "&news.*",
      ]);
      await rest.admin("ACL", "SETUSER", "app", "allkeys", "allchannels", "allcommands");
      const all = (await rest.admin("ACL", "GETUSER", "app")).result as unknown[];
      assert.deepStrictEqual(all.slice(4), ["commands", "+@all", "keys", "~*", "channels", "&*"]);
      await rest.admin("ACL", "SETUSER", "app", "reset");
      const reset = (await rest.admin("ACL", "GETUSER", "app")).result as unknown[];
      assert.deepStrictEqual(reset, BLANK_USER);
      assert.strictEqual(await rest.status(token), 401);
    });

    it("command, category and key-pattern permissions of an ACL user", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin(
        "ACL",
        "SETUSER",
        "app",
        "on",
        `>${token}`,
        "~user:?",
        "-@all",
        "+@read",
        "+set",
      );
      const noperm = (command: string) => ({
        status: 400,
        error: `NOPERM this user has no permissions to run the '${command}' command`,
      });
      const keys = {
        status: 400,
        error: "NOPERM this user has no permissions to access one of the keys used as arguments",
      };
      assert.deepStrictEqual(await rest.send(token, "SET", "user:1", "a"), {
        status: 200,
        result: "OK",
      });
      assert.deepStrictEqual(await rest.send(token, "GET", "user:1"), { status: 200, result: "a" });
      assert.deepStrictEqual(await rest.send(token, "GET", "user:10"), keys);
      assert.deepStrictEqual(await rest.send(token, "MGET", "user:1", "other"), keys);
      assert.deepStrictEqual(await rest.send(token, "DEL", "user:1"), noperm("del"));
      assert.deepStrictEqual(await rest.send(token, "PING"), noperm("ping"));
      // KEYS is @read but also @dangerous; without -@dangerous it is allowed.
      assert.deepStrictEqual(await rest.send(token, "KEYS", "*"), {
        status: 200,
        result: ["user:1"],
      });
      await rest.admin("ACL", "SETUSER", "app", "-@dangerous", "+@connection", "-set");
      assert.deepStrictEqual(await rest.send(token, "KEYS", "*"), noperm("keys"));
      assert.deepStrictEqual(await rest.send(token, "PING"), { status: 200, result: "PONG" });
      assert.deepStrictEqual(await rest.send(token, "SET", "user:1", "b"), noperm("set"));
      assert.deepStrictEqual(
        await rest.send(token, "ACL", "GETUSER", "app"),
        noperm("acl|getuser"),
      );
      assert.deepStrictEqual(await rest.send(token, "ACL", "WHOAMI"), noperm("acl|whoami"));
      await rest.admin("ACL", "SETUSER", "app", "+acl");
      assert.deepStrictEqual(await rest.send(token, "ACL", "WHOAMI"), {
        status: 200,
        result: "app",
      });
    });

    it("RESTTOKEN mints a bearer token with the user's rights, valid while the user holds that password", async () => {
      const rest = redisRest(ctx);
      const password = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${password}`, "~*", "+@read");
      assert.deepStrictEqual(await rest.admin("ACL", "RESTTOKEN", "app", "wrong"), {
        status: 400,
        error: 'ERR Wrong password or user "app" does not exist',
      });
      assert.deepStrictEqual(await rest.admin("ACL", "RESTTOKEN", "ghost", password), {
        status: 400,
        error: 'ERR Wrong password or user "ghost" does not exist',
      });
      const minted = (await rest.admin("ACL", "RESTTOKEN", "app", password)).result as string;
      assert.strictEqual(typeof minted, "string");
      assert.notStrictEqual(minted, password);
      assert.deepStrictEqual(await rest.send(minted, "ACL", "WHOAMI"), {
        status: 400,
        error: "NOPERM this user has no permissions to run the 'acl|whoami' command",
      });
      assert.deepStrictEqual(await rest.send(minted, "GET", "k"), { status: 200, result: null });
      assert.ok(ctx.emulator.isCurrentCredential(minted));
      // Off: 401; on again: back.
      await rest.admin("ACL", "SETUSER", "app", "off");
      assert.strictEqual(await rest.status(minted), 401);
      await rest.admin("ACL", "SETUSER", "app", "on", "+@connection");
      assert.strictEqual(await rest.status(minted), 200);
      // Removing the password it came from revokes it.
      const second = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", `>${second}`, `<${password}`);
      assert.strictEqual(await rest.status(minted), 401);
      assert.strictEqual(await rest.status(second), 200);
      assert.ok(!ctx.emulator.isCurrentCredential(minted));
      // And DELUSER revokes every token of the user, even if it is recreated.
      const fromSecond = (await rest.admin("ACL", "RESTTOKEN", "app", second)).result as string;
      await rest.admin("ACL", "DELUSER", "app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${second}`, "+@all");
      assert.strictEqual(await rest.status(second), 200);
      assert.strictEqual(await rest.status(fromSecond), 401);
    });

    it("RESTTOKEN also takes the password that was given to GENTOKEN", async () => {
      const rest = redisRest(ctx);
      const chosen = "Str0ng-and-L0ng-Passw0rd";
      const token = (await rest.admin("ACL", "GENTOKEN", "app", chosen)).result as string;
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "+@all");
      const minted = await rest.admin("ACL", "RESTTOKEN", "app", chosen);
      assert.strictEqual(minted.status, 200);
      assert.strictEqual(await rest.status(minted.result as string), 200);
    });

    it("the legacy /data-plane/ping and isCurrentCredential know ACL passwords", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      assert.ok(!ctx.emulator.isCurrentCredential(token));
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "+@all");
      assert.ok(ctx.emulator.isCurrentCredential(token));
      const ping = await ctx.call("GET", "/data-plane/ping", { authorization: `Bearer ${token}` });
      assert.strictEqual(ping.status, 200);
      await rest.admin("ACL", "DELUSER", "app");
      assert.ok(!ctx.emulator.isCurrentCredential(token));
    });

    it("ACL LIST, CAT, GENPASS, LOAD and SAVE answer; an unknown subcommand is an error", async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "~*", "&*", "+@all");
      assert.deepStrictEqual((await rest.admin("ACL", "LIST")).result, [
        `user default on #${sha256(rest.db().password)} ~* &* +@all`,
        `user app on #${sha256(token)} ~* &* +@all`,
      ]);
      assert.ok(((await rest.admin("ACL", "CAT")).result as string[]).includes("dangerous"));
      assert.match((await rest.admin("ACL", "GENPASS")).result as string, /^[0-9a-f]{64}$/);
      assert.deepStrictEqual(await rest.admin("ACL", "SAVE"), { status: 200, result: "OK" });
      assert.deepStrictEqual(await rest.admin("ACL", "LOAD"), { status: 200, result: "OK" });
      assert.deepStrictEqual(await rest.admin("ACL", "NOPE"), {
        status: 400,
        error: "ERR unknown subcommand 'NOPE'. Try ACL HELP.",
      });
    });
  });

  describe("a database without ACL (free tier)", () => {
    it('db_acl_enabled is "true" in the Developer API\'s Database by default', async () => {
      const db = (
        await ctx.call("GET", `/v2/redis/database/${FIXTURE_IDS.redis}`)
      ).json<RedisDatabase>();
      assert.strictEqual(db.db_acl_enabled, "true");
    });

    it('with db_acl_enabled "false" every ACL command fails and ACL users stop authenticating', async () => {
      const rest = redisRest(ctx);
      const token = await rest.gentoken("app");
      await rest.admin("ACL", "SETUSER", "app", "on", `>${token}`, "+@all");
      const control = await ctx.call("POST", "/_emulator/data-plane", {
        authorization: null,
        body: JSON.stringify({ type: "redis", id: FIXTURE_IDS.redis, aclEnabled: false }),
      });
      assert.strictEqual(control.status, 200);
      assert.strictEqual(control.json<{ aclEnabled: boolean }>().aclEnabled, false);
      const db = (
        await ctx.call("GET", `/v2/redis/database/${FIXTURE_IDS.redis}`)
      ).json<RedisDatabase>();
      assert.strictEqual(db.db_acl_enabled, "false");
      for (const args of [
        ["ACL", "GENTOKEN", "x"],
        ["ACL", "SETUSER", "x", "on"],
        ["ACL", "GETUSER", "app"],
        ["ACL", "DELUSER", "app"],
        ["ACL", "USERS"],
        ["ACL", "WHOAMI"],
        ["ACL", "RESTTOKEN", "app", token],
      ]) {
        assert.deepStrictEqual(
          await rest.admin(...args),
          { status: 400, error: "ERR ACL is not enabled for this database" },
          args.join(" "),
        );
      }
      assert.strictEqual(await rest.status(token), 401);
      assert.deepStrictEqual(await rest.admin("SET", "k", "v"), { status: 200, result: "OK" });
    });

    it("POST /_emulator/targets {aclEnabled: false} seeds such a database", async () => {
      const created = await ctx.call("POST", "/_emulator/targets", {
        authorization: null,
        body: JSON.stringify({ type: "redis", aclEnabled: false }),
      });
      const db = created.json<RedisDatabase>();
      assert.strictEqual(db.db_acl_enabled, "false");
      assert.strictEqual(
        (await redisRest(ctx, db.database_id).admin("ACL", "USERS")).error,
        "ERR ACL is not enabled for this database",
      );
    });
  });
});

function neutral(reply: { status: number; result?: unknown; error?: string }) {
  if (reply.status === 401) return { wrongpass: true as const };
  if (reply.error !== undefined) return { error: reply.error };
  return { result: reply.result };
}

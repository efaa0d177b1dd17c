import assert from "assert";
import { connect } from "net";
import { FIXTURE_IDS, type RedisDatabase } from "../../emulator/state";
import { aclRotationSequence, EXPECTED_SEQUENCE, type AclBackend } from "./aclSequence";
import { redisRest } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";
import {
  hasRedisServer,
  isRespError,
  RespConnection,
  startRedisServer,
  type RespValue,
} from "./resp";

const WRONGPASS = { error: "WRONGPASS invalid username-password pair or user is disabled." };
const NOAUTH = { error: "NOAUTH Authentication required." };

/** Sends raw bytes on a fresh connection and answers what came back once `done` says so. */
function exchange(port: number, bytes: string, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`incomplete answer: ${JSON.stringify(text)}`));
    }, 5000);
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (!done(text)) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    });
    socket.on("error", reject);
    socket.write(bytes);
  });
}

describe("emulator: the Redis protocol on the HTTP port", () => {
  const ctx = useEmulatorOverHttp();
  const port = (): number => Number(new URL(ctx.emulator.url).port);
  const db = (): RedisDatabase => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
  let opened: RespConnection[] = [];
  const connection = async (): Promise<RespConnection> => {
    const opening = await RespConnection.open(port());
    opened.push(opening);
    return opening;
  };
  /** A connection logged in as `user` (default: the database's own password). */
  const loggedIn = async (user = "default", password = db().password) => {
    const redis = await connection();
    assert.strictEqual(await redis.command(["AUTH", user, password]), "OK");
    return redis;
  };
  afterEach(() => {
    for (const open of opened) open.close();
    opened = [];
  });

  it("AUTH with the database's password, then commands run on the same key store as REST", async () => {
    const redis = await connection();
    assert.strictEqual(await redis.command(["AUTH", db().password]), "OK");
    assert.strictEqual(await redis.command(["PING"]), "PONG");
    assert.strictEqual(await redis.command(["SET", "k", "from resp"]), "OK");
    const rest = redisRest(ctx);
    assert.deepStrictEqual(await rest.admin("GET", "k"), { status: 200, result: "from resp" });
    await rest.admin("SET", "n", "41");
    assert.strictEqual(await redis.command(["INCR", "n"]), 42);
    assert.strictEqual(await redis.command(["GET", "absent"]), null);
    // `AUTH default <password>` is the same login, as in Redis 6+.
    assert.strictEqual(await redis.command(["AUTH", "default", db().password]), "OK");
    assert.deepStrictEqual(
      ctx.emulator.resp.log.map((entry) => [entry.command, entry.outcome, entry.database]),
      [
        ["AUTH", "ok", FIXTURE_IDS.redis],
        ["PING", "ok", FIXTURE_IDS.redis],
        ["SET", "ok", FIXTURE_IDS.redis],
        ["INCR", "ok", FIXTURE_IDS.redis],
        ["GET", "ok", FIXTURE_IDS.redis],
        ["AUTH", "ok", FIXTURE_IDS.redis],
      ],
    );
    assert.ok(!JSON.stringify(ctx.emulator.resp.log).includes(db().password));
  });

  it("before AUTH, commands answer NOAUTH, and HELLO says how to authenticate", async () => {
    const redis = await connection();
    assert.deepStrictEqual(await redis.command(["PING"]), NOAUTH);
    assert.deepStrictEqual(await redis.command(["GET", "k"]), NOAUTH);
    const hello = await redis.command(["HELLO", "3"]);
    assert.ok(isRespError(hello) && /^NOAUTH HELLO must be called/.test(hello.error));
    assert.strictEqual(redis.closed, false);
    assert.strictEqual(await redis.command(["AUTH", db().password]), "OK");
    assert.strictEqual(await redis.command(["PING"]), "PONG");
  });

  it("a wrong password answers WRONGPASS as Redis 7 does and logs nobody in", async () => {
    const redis = await connection();
    assert.deepStrictEqual(await redis.command(["AUTH", "nope"]), WRONGPASS);
    assert.deepStrictEqual(await redis.command(["AUTH", "default", "nope"]), WRONGPASS);
    // The REST token is not the database's password, as on Upstash.
    assert.deepStrictEqual(await redis.command(["AUTH", db().rest_token]), WRONGPASS);
    assert.deepStrictEqual(await redis.command(["PING"]), NOAUTH);
    assert.deepStrictEqual(
      ctx.emulator.resp.log.map((entry) => [entry.command, entry.outcome, entry.database]),
      [
        ["AUTH", "WRONGPASS", undefined],
        ["AUTH", "WRONGPASS", undefined],
        ["AUTH", "WRONGPASS", undefined],
        ["PING", "NOAUTH", undefined],
      ],
    );
  });

  it("a failed AUTH keeps an earlier login, as in Redis", async () => {
    const redis = await loggedIn();
    assert.deepStrictEqual(await redis.command(["AUTH", "nope"]), WRONGPASS);
    assert.strictEqual(await redis.command(["PING"]), "PONG");
  });

  it("an ACL user logs in with any of its passwords and works within its rules", async () => {
    const rest = redisRest(ctx);
    const [first, second] = [await rest.gentoken("app"), await rest.gentoken("app")];
    const rules = ["on", `>${first}`, `>${second}`, "~app:*", "&*", "+@all", "-@dangerous"];
    assert.strictEqual((await rest.admin("ACL", "SETUSER", "app", ...rules)).status, 200);
    const redis = await loggedIn("app", first);
    assert.strictEqual(await redis.command(["ACL", "WHOAMI"]), "app");
    assert.strictEqual(await redis.command(["SET", "app:1", "x"]), "OK");
    assert.deepStrictEqual(await redis.command(["SET", "other", "x"]), {
      error: "NOPERM this user has no permissions to access one of the keys used as arguments",
    });
    assert.deepStrictEqual(await redis.command(["FLUSHALL"]), {
      error: "NOPERM this user has no permissions to run the 'flushall' command",
    });
    await loggedIn("app", second);
    // A password of the user does not log in as another user or as default.
    const other = await connection();
    assert.deepStrictEqual(await other.command(["AUTH", "nobody", first]), WRONGPASS);
    assert.deepStrictEqual(await other.command(["AUTH", first]), WRONGPASS);
    // Rules apply to open connections at once.
    await rest.admin("ACL", "SETUSER", "app", "-get");
    assert.deepStrictEqual(await redis.command(["GET", "app:1"]), {
      error: "NOPERM this user has no permissions to run the 'get' command",
    });
    // A removed password no longer logs in; deleting the user ends its connections.
    await rest.admin("ACL", "SETUSER", "app", `<${second}`);
    assert.deepStrictEqual(await other.command(["AUTH", "app", second]), WRONGPASS);
    await rest.admin("ACL", "DELUSER", "app");
    assert.ok(isRespError(await redis.command(["PING"])));
    await redis.whenClosed();
    assert.deepStrictEqual(
      ctx.emulator.resp.log.filter((entry) => entry.user === "app").map((entry) => entry.outcome),
      ["ok", "ok", "ok", "NOPERM", "NOPERM", "ok", "NOPERM", "ERR"],
    );
  });

  it("HELLO 3 AUTH logs in and switches to RESP3: a map for HELLO, _ for nil", async () => {
    const bytes = [
      ["HELLO", "3", "AUTH", "default", db().password, "SETNAME", "app"],
      ["GET", "absent"],
      ["CLIENT", "GETNAME"],
    ]
      .map((args) => `*${args.length}\r\n${args.map((a) => `$${a.length}\r\n${a}\r\n`).join("")}`)
      .join("");
    const text = await exchange(port(), bytes, (seen) => seen.endsWith("_\r\n$3\r\napp\r\n"));
    assert.match(text, /^%7\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
    assert.match(text, /\$5\r\nproto\r\n:3\r\n/);
    const redis = await connection();
    const refused = await redis.command(["HELLO", "3", "AUTH", "default", "nope"]);
    assert.deepStrictEqual(refused, WRONGPASS);
    assert.deepStrictEqual(await redis.command(["HELLO", "4"]), {
      error: "NOPROTO unsupported protocol version",
    });
    const hello = (await redis.command([
      "HELLO",
      "2",
      "AUTH",
      "default",
      db().password,
    ])) as RespValue[];
    assert.deepStrictEqual(hello.slice(4, 6), ["proto", 2]);
  });

  it("an inline command after the first RESP one is answered too", async () => {
    const redis = await loggedIn();
    assert.strictEqual(await redis.send("PING\r\n"), "PONG");
  });

  it("HTTP still works on the same port: the API, the control API and Redis REST", async () => {
    await (await loggedIn()).command(["SET", "k", "v"]);
    const calls = await Promise.all(
      Array.from({ length: 10 }, () => ctx.call("GET", "/v2/redis/databases")),
    );
    assert.deepStrictEqual(
      calls.map((reply) => reply.status),
      Array(10).fill(200),
    );
    assert.strictEqual((await ctx.call("GET", "/_emulator/state")).status, 200);
    assert.deepStrictEqual(await redisRest(ctx).admin("GET", "k"), { status: 200, result: "v" });
    // A client that opens and never writes blocks nothing.
    const idle = connect(port(), "127.0.0.1");
    try {
      assert.strictEqual((await ctx.call("GET", "/v2/redis/databases")).status, 200);
    } finally {
      idle.destroy();
    }
  });

  describe("data-plane switches apply at AUTH", () => {
    it("refuse: the password is wrong whatever it is, also after a reset; REST is unaffected", async () => {
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { refuse: ["password"] });
      const redis = await connection();
      assert.deepStrictEqual(await redis.command(["AUTH", db().password]), WRONGPASS);
      await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
      assert.deepStrictEqual(await redis.command(["AUTH", db().password]), WRONGPASS);
      assert.deepStrictEqual(await redisRest(ctx).admin("PING"), { status: 200, result: "PONG" });
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
      assert.strictEqual(await redis.command(["AUTH", db().password]), "OK");
    });

    it("reject drop ends the connection unanswered; unauthorized answers WRONGPASS", async () => {
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "unauthorized" });
      const redis = await connection();
      assert.deepStrictEqual(await redis.command(["AUTH", db().password]), WRONGPASS);
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { reject: "drop" });
      await assert.rejects(redis.command(["AUTH", db().password]), /closed the connection/);
      await redis.whenClosed();
    });

    it("freshTokenRejections: a new password is refused N times over RESP, counted apart from REST", async () => {
      const rest = redisRest(ctx);
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 2 });
      const before = db().password;
      assert.strictEqual(await (await connection()).command(["AUTH", before]), "OK");
      await ctx.call("POST", `/v2/redis/reset-password/${FIXTURE_IDS.redis}`);
      const redis = await connection();
      const seen: RespValue[] = [];
      for (let i = 0; i < 3; i++) seen.push(await redis.command(["AUTH", db().password]));
      assert.deepStrictEqual(seen, [WRONGPASS, WRONGPASS, "OK"]);
      assert.deepStrictEqual(
        [await rest.status(db().rest_token), await rest.status(db().rest_token)],
        [401, 401],
      );
    });
  });

  it("a reset of the emulator ends the logins of open connections", async () => {
    const redis = await loggedIn();
    ctx.emulator.reset();
    assert.ok(isRespError(await redis.command(["PING"])));
    await redis.whenClosed();
  });

  describe("conformance with a real Redis 7", function () {
    let real: { port: number; stop: () => Promise<void> } | undefined;
    const REAL_PASSWORD = "real-redis-password-0123";

    before(async function () {
      if (!hasRedisServer()) {
        console.log(
          "    skipped: redis-server is not on PATH (apt-get install -y redis-server to run it)",
        );
        this.skip();
      }
      real = await startRedisServer(["--requirepass", REAL_PASSWORD], REAL_PASSWORD);
    });

    after(async () => {
      await real?.stop();
    });

    it("answers the connection commands as Redis 7.0 does", async () => {
      const sequence = (password: string): string[][] => [
        ["PING"],
        ["GET", "k"],
        ["HELLO", "3"],
        ["HELLO", "4"],
        ["HELLO", "x"],
        ["HELLO", "3", "AUTH", "default"],
        ["HELLO", "3", "AUTH", "default", "wrong"],
        ["AUTH"],
        ["AUTH", "a", "b", "c"],
        ["AUTH", "wrong"],
        ["AUTH", "default", "wrong"],
        ["AUTH", "nobody", "wrong"],
        ["AUTH", password],
        ["PING"],
        ["PING", "hi"],
        ["PING", "a", "b"],
        ["GET", "absent"],
        ["SET", "k", "v"],
        ["GET", "k"],
        ["SELECT", "0"],
        ["SELECT", "x"],
        ["CLIENT", "SETNAME", "app"],
        ["CLIENT", "GETNAME"],
        ["CLIENT", "SETINFO", "LIB-NAME", "x"],
      ];
      const run = async (to: number, password: string): Promise<RespValue[]> => {
        const redis = await RespConnection.open(to);
        try {
          const replies: RespValue[] = [];
          for (const args of sequence(password)) replies.push(await redis.command(args));
          return replies;
        } finally {
          redis.close();
        }
      };
      const onRedis = await run(real!.port, REAL_PASSWORD);
      const onEmulator = await run(port(), db().password);
      sequence("").forEach((args, i) => {
        assert.deepStrictEqual(onEmulator[i], onRedis[i], args.join(" "));
      });
    });

    it("runs the ACL rotation sequence over the Redis protocol as Redis 7.0 does", async () => {
      const rest = redisRest(ctx);
      const run = async (args: string[], auth: [string, string]) => {
        const redis = await RespConnection.open(port());
        try {
          const login = await redis.command(["AUTH", ...auth]);
          if (isRespError(login) && login.error.startsWith("WRONGPASS")) {
            return { wrongpass: true as const };
          }
          if (isRespError(login)) return login;
          const reply = await redis.command(args);
          return isRespError(reply) ? reply : { result: reply };
        } finally {
          redis.close();
        }
      };
      const overResp: AclBackend = {
        password: (user) => rest.gentoken(user),
        admin: (args) => run(args, ["default", db().password]),
        as: (user, password, args) => run(args, [user, password]),
      };
      assert.deepStrictEqual(await aclRotationSequence(overResp), EXPECTED_SEQUENCE);
    });
  });
});

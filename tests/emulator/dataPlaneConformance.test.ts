import assert from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { createServer } from "net";
import {
  aclRotationSequence,
  EXPECTED_SEQUENCE,
  type AclBackend,
  type Observation,
  type Outcome,
} from "./aclSequence";
import { redisRest } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";
import { RespConnection, type RespValue } from "./resp";

/**
 * The emulator's Redis ACL against a real Redis 7 (Debian's `redis-server`):
 * the same multi-password rotation sequence on both, compared step by step.
 * Real Redis has no GENTOKEN and no REST API, so it gets plaintext `>A`
 * passwords and a RESP connection per authentication.
 */
describe("emulator: Redis ACL conformance with a real Redis 7", function () {
  const ctx = useEmulatorOverHttp();
  let server: ChildProcess | undefined;
  let port = 0;

  before(async function () {
    const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
    if (probe.error || probe.status !== 0) {
      console.log(
        "    skipped: redis-server is not on PATH (apt-get install -y redis-server to run it)",
      );
      this.skip();
    }
    port = await freePort();
    server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const connection = await RespConnection.open(port);
        const pong = await connection.command(["PING"]);
        connection.close();
        if (pong === "PONG") break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || server.exitCode !== null) {
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(async () => {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  });

  const redisBackend = (): AclBackend => {
    const run = async (args: string[], auth?: [string, string]): Promise<Outcome> => {
      const connection = await RespConnection.open(port);
      try {
        if (auth) {
          const reply = await connection.command(["AUTH", ...auth]);
          if (isError(reply) && reply.error.startsWith("WRONGPASS")) return { wrongpass: true };
          if (isError(reply)) return reply;
        }
        const reply = await connection.command(args);
        return isError(reply) ? reply : { result: reply };
      } finally {
        connection.close();
      }
    };
    return {
      password: (user, label) => Promise.resolve(`${user}-${label}-${port}-plaintext`),
      admin: (args) => run(args),
      as: (user, password, args) => run(args, [user, password]),
    };
  };

  it("runs the rotation sequence the same way as Redis 7.0 does", async () => {
    const rest = redisRest(ctx);
    const emulatorBackend: AclBackend = {
      password: (user) => rest.gentoken(user),
      admin: async (args) => outcome(await rest.admin(...args)),
      as: async (_user, password, args) => outcome(await rest.send(password, ...args)),
    };
    const onRedis = await aclRotationSequence(redisBackend());
    const onEmulator = await aclRotationSequence(emulatorBackend);
    for (let i = 0; i < onRedis.length; i++) {
      assert.deepStrictEqual(onEmulator[i], onRedis[i], `step ${i}: ${onRedis[i][0]}`);
    }
    assert.deepStrictEqual(onRedis, EXPECTED_SEQUENCE);
  });

  it("a read-only ACL user (+@read -@dangerous) gets the same NOPERM for a write", async () => {
    const rest = redisRest(ctx);
    const token = await rest.gentoken("reader");
    const rules = ["on", "~*", "&*", "+@read", "-@dangerous"];
    const emulator: Observation[] = [];
    const redis: Observation[] = [];
    emulator.push([
      "setuser",
      outcome(await rest.admin("ACL", "SETUSER", "reader", ...rules, `>${token}`)),
    ]);
    emulator.push(["set", outcome(await rest.send(token, "SET", "k", "v"))]);
    emulator.push(["get", outcome(await rest.send(token, "GET", "k"))]);
    emulator.push(["keys", outcome(await rest.send(token, "KEYS", "*"))]);
    const backend = redisBackend();
    redis.push(["setuser", await backend.admin(["ACL", "SETUSER", "reader", ...rules, ">pw"])]);
    redis.push(["set", await backend.as("reader", "pw", ["SET", "k", "v"])]);
    redis.push(["get", await backend.as("reader", "pw", ["GET", "k"])]);
    redis.push(["keys", await backend.as("reader", "pw", ["KEYS", "*"])]);
    assert.deepStrictEqual(emulator, redis);
    assert.deepStrictEqual(redis[1][1], {
      error: "NOPERM this user has no permissions to run the 'set' command",
    });
  });
});

const isError = (value: RespValue): value is { error: string } =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A REST reply as a backend-neutral outcome: 401 is a failed authentication. */
function outcome(reply: { status: number; result?: unknown; error?: string }): Outcome {
  if (reply.status === 401) return { wrongpass: true };
  if (reply.error !== undefined) return { error: reply.error };
  return { result: reply.result };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const found = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(found));
    });
  });
}

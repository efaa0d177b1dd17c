import assert from "assert";
import {
  aclRotationSequence,
  EXPECTED_SEQUENCE,
  type AclBackend,
  type Observation,
  type Outcome,
} from "./aclSequence";
import { redisRest } from "./dataPlaneClient";
import { useEmulatorOverHttp } from "./http";
import { hasRedisServer, isRespError, RespConnection, startRedisServer } from "./resp";

/**
 * The emulator's Redis ACL against a real Redis 7 (Debian's `redis-server`):
 * the same multi-password rotation sequence on both, compared step by step.
 * Real Redis has no GENTOKEN and no REST API, so it gets plaintext `>A`
 * passwords and a RESP connection per authentication.
 */
describe("emulator: Redis ACL conformance with a real Redis 7", function () {
  const ctx = useEmulatorOverHttp();
  let port = 0;
  let stop: (() => Promise<void>) | undefined;

  before(async function () {
    if (!hasRedisServer()) {
      console.log(
        "    skipped: redis-server is not on PATH (apt-get install -y redis-server to run it)",
      );
      this.skip();
    }
    ({ port, stop } = await startRedisServer());
  });

  after(async () => {
    await stop?.();
  });

  const redisBackend = (): AclBackend => {
    const run = async (args: string[], auth?: [string, string]): Promise<Outcome> => {
      const connection = await RespConnection.open(port);
      try {
        if (auth) {
          const reply = await connection.command(["AUTH", ...auth]);
          if (isRespError(reply) && reply.error.startsWith("WRONGPASS")) {
            return { wrongpass: true };
          }
          if (isRespError(reply)) return reply;
        }
        const reply = await connection.command(args);
        return isRespError(reply) ? reply : { result: reply };
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

/** A REST reply as a backend-neutral outcome: 401 is a failed authentication. */
function outcome(reply: { status: number; result?: unknown; error?: string }): Outcome {
  if (reply.status === 401) return { wrongpass: true };
  if (reply.error !== undefined) return { error: reply.error };
  return { result: reply.result };
}

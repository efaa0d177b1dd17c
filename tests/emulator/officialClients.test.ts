import assert from "assert";
import { qstashSignature } from "../../emulator/qstashSignature";
import { Client, QstashError, Receiver, SignatureError } from "@upstash/qstash";
import { Redis } from "@upstash/redis";
import { Index } from "@upstash/vector";
import { dataPlaneHostUrl, indexHost, qstashHost, redisHost } from "../../emulator/server";
import {
  FIXTURE_IDS,
  type QStashUser,
  type RedisDatabase,
  type RestIndex,
} from "../../emulator/state";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import { useEmulatorOverHttp } from "./http";

interface SigningKeys {
  current: string;
  next: string;
}

/** Runs `work` with the QStash client's own console.error lines for refused requests held back. */
async function quietly<T>(work: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = () => undefined;
  try {
    return await work();
  } finally {
    console.error = original;
  }
}

describe("emulator: Upstash's official SDKs with their default options", () => {
  const ctx = useEmulatorOverHttp();
  const url = (host: string): string => dataPlaneHostUrl(ctx.emulator.url, host);
  /**
   * A rejection whose message matches `pattern` and holds no credential: none
   * that is current, nor the `stale` ones a reset just replaced.
   */
  const failsWith =
    (pattern: RegExp, ...stale: string[]) =>
    (error: unknown): boolean => {
      assert.ok(error instanceof Error, String(error));
      assert.match(error.message, pattern);
      for (const word of error.message.split(/[^A-Za-z0-9_=+/-]+/)) {
        assert.ok(word.length < 16 || !ctx.emulator.isCurrentCredential(word), "a token leaked");
      }
      assert.ok(!stale.some((token) => error.message.includes(token)), "a stale token leaked");
      return true;
    };

  describe("@upstash/redis Redis (base64 answers, auto-pipelining)", () => {
    const db = (): RedisDatabase => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
    const redis = (token = db().rest_token): Redis =>
      new Redis({ url: url(redisHost(db())), token });

    it("ping, set/get (strings that are valid base64, UTF-8, JSON), incr and a pipeline", async () => {
      const client = redis();
      assert.strictEqual(await client.ping(), "PONG");
      assert.strictEqual(await client.set("plain", "value12345"), "OK");
      assert.strictEqual(await client.get("plain"), "value12345");
      await client.set("unicode", "héllo ✓ 日本");
      assert.strictEqual(await client.get("unicode"), "héllo ✓ 日本");
      await client.set("json", { nested: ["a", 1] });
      assert.deepStrictEqual(await client.get("json"), { nested: ["a", 1] });
      assert.strictEqual(await client.get("absent"), null);
      assert.strictEqual(await client.incr("counter"), 1);
      assert.strictEqual(await client.incr("counter"), 2);

      const pipeline = client.pipeline();
      pipeline.set("echo", "PONG");
      pipeline.get("echo");
      pipeline.incr("counter");
      pipeline.mget("echo", "absent", "plain");
      pipeline.exists("echo", "absent");
      assert.deepStrictEqual(await pipeline.exec(), [
        "OK",
        "PONG",
        3,
        ["PONG", null, "value12345"],
        1,
      ]);
      assert.deepStrictEqual((await client.keys("*")).sort(), [
        "counter",
        "echo",
        "json",
        "plain",
        "unicode",
      ]);
    });

    it("the header decides: base64 strings with Upstash-Encoding, plain ones without, errors plain", async () => {
      await redis().set("k", "value12345");
      const send = async (path: string, command: unknown, base64: boolean) => {
        const reply = await ctx.call("POST", `/data-plane/${redisHost(db())}${path}`, {
          authorization: `Bearer ${db().rest_token}`,
          headers: base64 ? { "Upstash-Encoding": "base64" } : {},
          body: JSON.stringify(command),
        });
        return { status: reply.status, body: reply.json() };
      };
      const b64 = (text: string) => Buffer.from(text).toString("base64");
      assert.deepStrictEqual(await send("", ["PING"], true), {
        status: 200,
        body: { result: b64("PONG") },
      });
      assert.deepStrictEqual(await send("", ["PING"], false), {
        status: 200,
        body: { result: "PONG" },
      });
      // "except for the OK response"; integers, nulls and errors are never encoded.
      assert.deepStrictEqual(
        await send(
          "/pipeline",
          [
            ["SET", "s", "x"],
            ["GET", "k"],
            ["INCR", "n"],
            ["MGET", "k", "none"],
            ["INCR", "k"],
          ],
          true,
        ),
        {
          status: 200,
          body: [
            { result: "OK" },
            { result: b64("value12345") },
            { result: 1 },
            { result: [b64("value12345"), null] },
            { error: "ERR value is not an integer or out of range" },
          ],
        },
      );
      assert.deepStrictEqual(await send("", ["INCR", "k"], true), {
        status: 400,
        body: { error: "ERR value is not an integer or out of range" },
      });
      const path = await ctx.call("GET", `/data-plane/${redisHost(db())}/get/k`, {
        authorization: `Bearer ${db().rest_token}`,
        headers: { "Upstash-Encoding": "base64" },
      });
      assert.deepStrictEqual(path.json(), { result: b64("value12345") });
    });

    it("a failing command rejects with Redis's error, alone and in a pipeline", async () => {
      const client = redis();
      await client.set("text", "not a number");
      await assert.rejects(
        client.incr("text"),
        failsWith(/ERR value is not an integer or out of range/),
      );
      const pipeline = client.pipeline();
      pipeline.get("text");
      pipeline.incr("text");
      await assert.rejects(
        pipeline.exec(),
        failsWith(/Command 2 \[ incr \] failed: ERR value is not an integer or out of range/),
      );
      // The pipeline ran: only the failing command failed.
      assert.deepStrictEqual(await pipeline.exec({ keepErrors: true }), [
        { result: "not a number", error: undefined },
        { result: undefined, error: "ERR value is not an integer or out of range" },
      ]);
    });

    it("the read-only token reads, and its writes fail with NOPERM", async () => {
      await redis().set("k", "v");
      const readOnly = redis(db().read_only_rest_token);
      assert.strictEqual(await readOnly.get("k"), "v");
      assert.strictEqual(await readOnly.ping(), "PONG");
      await assert.rejects(
        readOnly.set("k", "w"),
        failsWith(/NOPERM this user has no permissions to run the 'set' command/),
      );
      await assert.rejects(readOnly.incr("n"), failsWith(/NOPERM/));
      assert.strictEqual(await redis().get("k"), "v");
    });

    it("after a Developer API reset-password the old token is refused, the new one works", async () => {
      const old = { ...db() };
      const before = redis();
      await before.set("k", "kept");
      const oldReadOnly = redis(old.read_only_rest_token);
      await resetOutsidePulumi(ctx.emulator);
      const stale = [old.rest_token, old.read_only_rest_token];
      await assert.rejects(before.ping(), failsWith(/WRONGPASS/, ...stale));
      await assert.rejects(oldReadOnly.get("k"), failsWith(/WRONGPASS/, ...stale));
      const after = redis(db().rest_token);
      assert.strictEqual(await after.ping(), "PONG");
      // A reset changes credentials, not data.
      assert.strictEqual(await after.get("k"), "kept");
    });
  });

  describe("@upstash/vector Index", () => {
    const index = (): RestIndex => ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!;
    const vector = (token = index().token): Index =>
      new Index({ url: url(indexHost("vector", index())), token });
    const dimension = (): number => index().dimension_count as number;
    /** The unit vector along `axes` (one axis, or the diagonal of several). */
    const unit = (...axes: number[]): number[] => {
      const values = new Array<number>(dimension()).fill(0);
      for (const axis of axes) values[axis] = 1 / Math.sqrt(axes.length);
      return values;
    };

    it("info(), then an upsert + query round trip with cosine scores, metadata and namespaces", async () => {
      const client = vector();
      const empty = await client.info();
      assert.strictEqual(empty.vectorCount, 0);
      assert.strictEqual(empty.dimension, dimension());
      assert.strictEqual(empty.similarityFunction, "COSINE");
      assert.deepStrictEqual(await client.query({ vector: unit(0), topK: 3 }), []);

      assert.strictEqual(
        await client.upsert([
          { id: "x", vector: unit(0), metadata: { name: "x" } },
          { id: "y", vector: unit(1), metadata: { name: "y" } },
          { id: "xy", vector: unit(0, 1) },
        ]),
        "Success",
      );
      const found = await client.query({ vector: unit(0), topK: 2, includeMetadata: true });
      assert.deepStrictEqual(
        found.map(({ id, metadata }) => ({ id, metadata })),
        [
          { id: "x", metadata: { name: "x" } },
          { id: "xy", metadata: undefined },
        ],
      );
      assert.ok(Math.abs(found[0].score - 1) < 1e-9);
      assert.ok(Math.abs(found[1].score - (1 + Math.SQRT1_2) / 2) < 1e-9);
      const withVectors = await client.query({ vector: unit(1), topK: 1, includeVectors: true });
      assert.deepStrictEqual(withVectors[0].vector, unit(1));
      const [first, second] = await client.queryMany([
        { vector: unit(1), topK: 1 },
        { vector: unit(0), topK: 1 },
      ]);
      assert.deepStrictEqual([first[0].id, second[0].id], ["y", "x"]);

      await client.upsert({ id: "x", vector: unit(1) }, { namespace: "other" });
      assert.deepStrictEqual(
        (await client.namespace("other").query({ vector: unit(1), topK: 5 })).map(({ id }) => id),
        ["x"],
      );
      const info = await client.info();
      assert.strictEqual(info.vectorCount, 4);
      assert.deepStrictEqual(info.namespaces, {
        "": { vectorCount: 3, pendingVectorCount: 0 },
        other: { vectorCount: 1, pendingVectorCount: 0 },
      });
    });

    it("a vector of the wrong dimension is refused with Vector's 422 text", async () => {
      await assert.rejects(
        vector().upsert({ id: "bad", vector: [1, 2] }),
        failsWith(new RegExp(`^Invalid vector dimension: 2, expected: ${dimension()}$`)),
      );
      await assert.rejects(
        vector().query({ vector: [1], topK: 1 }),
        failsWith(/Invalid vector dimension: 1/),
      );
      assert.strictEqual((await vector().info()).vectorCount, 0);
    });

    it("the read-only token queries but may not upsert; a reset token is refused", async () => {
      await vector().upsert({ id: "x", vector: unit(0) });
      const readOnly = vector(index().read_only_token);
      assert.deepStrictEqual(
        (await readOnly.query({ vector: unit(0), topK: 1 })).map(({ id }) => id),
        ["x"],
      );
      await assert.rejects(readOnly.upsert({ id: "y", vector: unit(1) }), failsWith(/Forbidden/));

      const old = { ...index() };
      const before = vector();
      const reset = await ctx.call("POST", `/v2/vector/index/${old.id}/reset-password`);
      assert.strictEqual(reset.status, 200);
      const stale = [old.token, old.read_only_token];
      await assert.rejects(
        before.info(),
        failsWith(/^Unauthorized: Invalid auth token$/, ...stale),
      );
      await assert.rejects(readOnly.info(), failsWith(/Unauthorized/, ...stale));
      assert.strictEqual((await vector(index().token).info()).vectorCount, 1);
    });
  });

  describe("@upstash/qstash", () => {
    const user = (): QStashUser => ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!;
    const signingKeys = async (): Promise<SigningKeys> =>
      (
        await ctx.call("GET", `/data-plane/${qstashHost(user())}/v2/keys`, {
          authorization: `Bearer ${user().token}`,
        })
      ).json<SigningKeys>();
    const destination = "https://app.example.com/api/webhook";
    const body = JSON.stringify({ hello: "world" });

    it("Receiver verifies a message signed with the current key and one signed with next", async () => {
      const keys = await signingKeys();
      const receiver = new Receiver({
        currentSigningKey: keys.current,
        nextSigningKey: keys.next,
      });
      for (const key of [keys.current, keys.next]) {
        const signature = qstashSignature(key, destination, body);
        assert.strictEqual(await receiver.verify({ signature, body, url: destination }), true);
      }
      const forged = qstashSignature("sig_notAKeyOfThisUser", destination, body);
      await assert.rejects(receiver.verify({ signature: forged, body }), SignatureError);
      const signed = qstashSignature(keys.current, destination, body);
      await assert.rejects(
        receiver.verify({ signature: signed, body: `${body} ` }),
        SignatureError,
      );
    });

    it("after a roll, a receiver on the new pair takes the old next and refuses the old current", async () => {
      const before = await signingKeys();
      const rolled = await ctx.call("POST", `/data-plane/${qstashHost(user())}/v2/keys/rotate`, {
        authorization: `Bearer ${user().token}`,
      });
      assert.strictEqual(rolled.status, 200);
      const after = await signingKeys();
      assert.strictEqual(after.current, before.next);
      const receiver = new Receiver({
        currentSigningKey: after.current,
        nextSigningKey: after.next,
      });
      const byOldNext = qstashSignature(before.next, destination, body);
      assert.strictEqual(await receiver.verify({ signature: byOldNext, body }), true);
      const byOldCurrent = qstashSignature(before.current, destination, body);
      await assert.rejects(receiver.verify({ signature: byOldCurrent, body }), SignatureError);
    });

    it("Client reads with the token and the read-only token; a rotated token is refused", async () => {
      const client = (token: string): Client =>
        new Client({ baseUrl: url(qstashHost(user())), token });
      const old = { ...user() };
      const before = client(old.token);
      const readOnly = client(old.read_only_token);
      assert.deepStrictEqual(await before.schedules.list(), []);
      assert.deepStrictEqual(await before.urlGroups.list(), []);
      assert.deepStrictEqual(await readOnly.queue().list(), []);

      const rotated = await ctx.call("POST", `/v2/qstash/rotate-token/${user().id}`);
      assert.strictEqual(rotated.status, 200);
      for (const stale of [before, readOnly]) {
        await quietly(() =>
          assert.rejects(stale.schedules.list(), (error: unknown) => {
            assert.ok(error instanceof QstashError);
            assert.strictEqual(error.status, 401);
            return failsWith(/Unauthorized/, old.token, old.read_only_token)(error);
          }),
        );
      }
      assert.deepStrictEqual(await client(user().token).schedules.list(), []);
    });
  });
});

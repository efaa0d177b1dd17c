import assert from "assert";
import { createHash } from "crypto";
import { addQStashUser, FIXTURE_IDS } from "../../emulator/state";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { setEnvironment } from "../helpers/environment";
import { assertNoSecrets } from "../helpers/secrets";
import { failureOf, recordedBy } from "../helpers/failures";

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;
const VECTOR = { type: "vector", indexId: FIXTURE_IDS.vector } as const;

describe("rotation guarantees", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const liveRedis = () => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;

  describe("a replacement never kills its own credentials", () => {
    it("deleting the replaced resource (onDelete rotate, same target) leaves the new credentials alive", async () => {
      const old = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      // The engine creates the replacement first, then deletes the old resource.
      const replacement = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      await provider.delete!(old.id, old.state);
      assert.strictEqual(ctx.emulator.rotations().length, 2);
      assert.strictEqual(replacement.state.token, liveRedis().rest_token);
      assert.strictEqual(replacement.state.password, liveRedis().password);
    });

    it("delete with onDelete rotate still kills credentials it handed out that are live", async () => {
      const created = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      await provider.delete!(created.id, created.state);
      assert.strictEqual(ctx.emulator.rotations().length, 2);
      assert.notStrictEqual(liveRedis().rest_token, created.state.token);
    });

    it("naming the QStash user that was resolved is an update that resets nothing", async () => {
      const created = await createThroughProvider({ target: { type: "qstash" } });
      assert.strictEqual(created.state.resourceId, FIXTURE_IDS.qstash);
      const updated = await updateThroughProvider(created.id, created.state, {
        target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
      });
      assert.deepStrictEqual(updated.replaces, []);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
      assert.deepStrictEqual(updated.state.target, {
        type: "qstash",
        qstashUserId: FIXTURE_IDS.qstash,
      });
      assert.strictEqual(updated.state.token, created.state.token);
    });

    it("leaving the QStash user's name out again is an update that resets nothing, and the same user is rotated next", async () => {
      const created = await createThroughProvider({
        target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
        trigger: 1,
      });
      // A second user: a lookup would now fail, so only the recorded user can be rotated.
      addQStashUser(ctx.emulator.data, "second-user");
      const unnamed = await updateThroughProvider(created.id, created.state, {
        target: { type: "qstash" },
      });
      assert.deepStrictEqual(unnamed.replaces, []);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
      assert.strictEqual(unnamed.state.token, created.state.token);
      const rotated = await updateThroughProvider(created.id, unnamed.state, { trigger: 2 });
      assert.strictEqual(ctx.emulator.rotations().length, 2);
      assert.strictEqual(rotated.state.resourceId, FIXTURE_IDS.qstash);
      assert.strictEqual(
        rotated.state.token,
        ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token,
      );
    });

    it("whitespace around an id is neither a replacement nor a reset, and the trimmed id is stored", async () => {
      const created = await createThroughProvider({
        target: { type: "redis", databaseId: ` ${FIXTURE_IDS.redis}\n` },
      });
      assert.deepStrictEqual(created.state.target, REDIS);
      const updated = await updateThroughProvider(created.id, created.state, { target: REDIS });
      assert.deepStrictEqual(updated.replaces, []);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
    });

    it("another database is still a replacement", async () => {
      const created = await createThroughProvider({ target: REDIS });
      const diff = await provider.diff!(created.id, created.state, {
        ...created.state,
        target: { type: "redis", databaseId: "another" },
      });
      assert.deepStrictEqual(diff.replaces, ["target"]);
    });
  });

  describe("a 404 means gone only when the account's list proves it", () => {
    it("refresh drops a resource whose database is listed as gone", async () => {
      const created = await createThroughProvider({ target: REDIS });
      ctx.emulator.data.redis.delete(FIXTURE_IDS.redis);
      const read = await provider.read!(created.id, created.state);
      assert.strictEqual(read.id, "");
    });

    it("with a wrong API URL, refresh keeps the resource and says what was tried", async () => {
      const created = await createThroughProvider({ target: REDIS });
      const restore = setEnvironment({ UPSTASH_API_URL: `${ctx.emulator.url}/not-the-api` });
      try {
        const error = await failureOf(provider.read!(created.id, created.state));
        assert.match(error.message, /does not prove it was deleted/);
        assert.match(error.message, /list Redis databases/);
        assertNoSecrets(error);
      } finally {
        restore();
      }
    });

    it("with a wrong API URL, destroy with onDelete rotate fails instead of reporting success", async () => {
      const created = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      const restore = setEnvironment({ UPSTASH_API_URL: `${ctx.emulator.url}/not-the-api` });
      try {
        const error = await failureOf(provider.delete!(created.id, created.state));
        assert.match(error.message, /onDelete "rotate"/);
        assert.match(error.message, /does not prove it was deleted/);
      } finally {
        restore();
      }
      assert.strictEqual(liveRedis().rest_token, created.state.token, "nothing was reset");
    });

    it("a 404 for a target the account still lists is an error, not a deletion", async () => {
      const created = await createThroughProvider({ target: VECTOR });
      ctx.emulator.faults = [
        { kind: "status", status: 404, method: "GET", path: "/v2/vector/index/[^/]+$" },
      ];
      const error = await failureOf(provider.read!(created.id, created.state));
      assert.match(error.message, /still lists it/);
    });
  });

  describe("exactly one reset per rotation, even when an answer is lost", () => {
    for (const target of [REDIS, VECTOR]) {
      const resetPath = target.type === "redis" ? "reset-password" : "/reset-password$";

      it(`${target.type}: an answer lost after the work is not re-sent; the live credentials are recorded`, async () => {
        const created = await createThroughProvider({ target, trigger: 1 });
        ctx.emulator.faults = [
          { kind: "drop", afterWork: true, method: "POST", path: resetPath, times: 1 },
        ];
        const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
        assert.strictEqual(ctx.emulator.rotations().length, 2);
        const read = await provider.read!(created.id, updated.state);
        assert.deepStrictEqual(read.props, updated.state, "state holds the live credentials");
      });

      it(`${target.type}: a 500 is never re-sent within the run; the next up, having read first, resets once`, async () => {
        const created = await createThroughProvider({ target, trigger: 1 });
        ctx.emulator.faults = [
          { kind: "status", status: 500, method: "POST", path: resetPath, times: 1 },
        ];
        const error = await failureOf(
          updateThroughProvider(created.id, created.state, { trigger: 2 }),
        );
        assert.match(error.message, /not sent again blindly/);
        const recorded = recordedBy(error);
        assert.strictEqual(recorded.token, undefined, "a credential that may be dead was kept");
        assert.ok(recorded.pendingRotation);
        const resets = () => ctx.emulator.log.filter((entry) => entry.method === "POST").length;
        const sent = resets();
        const updated = await updateThroughProvider(created.id, recorded, { trigger: 2 });
        assert.strictEqual(resets() - sent, 1, "the next up did not reset exactly once");
        assert.strictEqual(ctx.emulator.rotations().length, 2);
        assert.ok(ctx.emulator.isCurrentCredential(updated.state.token!));
      });

      for (const status of [503, 520]) {
        it(`${target.type}: a gateway's ${status} whose reset lands 1.5 s later: the readings see it, one reset, the new credentials handed out`, async () => {
          const created = await createThroughProvider({ target, trigger: 1 });
          ctx.emulator.faults = [
            {
              kind: "status",
              status,
              landsAfterMs: 1500,
              method: "POST",
              path: resetPath,
              times: 1,
            },
          ];
          const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
          assert.strictEqual(ctx.emulator.rotations().length, 2, "not exactly one reset");
          assert.ok(
            ctx.emulator.isCurrentCredential(updated.state.token!),
            "a dead token handed out",
          );
        });
      }

      it(`${target.type}: a gateway's 524 whose reset lands after the readings: a partial failure; the next up records it without another reset`, async () => {
        const created = await createThroughProvider({ target, trigger: 1 });
        ctx.emulator.faults = [
          {
            kind: "status",
            status: 524,
            landsAfterMs: 3500,
            method: "POST",
            path: resetPath,
            times: 1,
          },
        ];
        const error = await failureOf(
          updateThroughProvider(created.id, created.state, { trigger: 2 }),
        );
        const recorded = recordedBy(error);
        assert.strictEqual(recorded.token, undefined, "a token about to die was handed out");
        await new Promise((resolve) => setTimeout(resolve, 1500)); // the reset lands meanwhile
        assert.strictEqual(ctx.emulator.rotations().length, 2);
        const updated = await updateThroughProvider(created.id, recorded, { trigger: 2 });
        assert.strictEqual(ctx.emulator.rotations().length, 2, "a second reset killed the first");
        assert.ok(ctx.emulator.isCurrentCredential(updated.state.token!));
      });
    }

    it("a lost answer that cannot be checked is a partial failure; the next up records the reset without another", async () => {
      const created = await createThroughProvider({ target: VECTOR, trigger: 1 });
      ctx.emulator.faults = [
        { kind: "drop", afterWork: true, method: "POST", times: 1 },
        // The key is revoked right after the reading taken before the reset.
        { kind: "status", status: 401, method: "GET", after: 1 },
      ];
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { trigger: 2 }),
      );
      assert.match(error.message, /got no usable answer/);
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, undefined, "no credential that may be dead is recorded");
      assert.strictEqual(
        recorded.pendingRotation?.previousTokenSha256,
        createHash("sha256").update(created.state.token!).digest("hex"),
      );
      assertNoSecrets(error, [created.state.token!]);
      ctx.emulator.faults = [];

      const healed = await updateThroughProvider(created.id, recorded, { trigger: 2 });
      assert.strictEqual(ctx.emulator.rotations().length, 2, "one reset for the rotation");
      assert.strictEqual(
        healed.state.token,
        ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token,
      );
      assert.strictEqual(healed.state.pendingRotation, undefined);
    });

    it("when that lost reset never took effect, the next up performs it (once)", async () => {
      const created = await createThroughProvider({ target: VECTOR, trigger: 1 });
      ctx.emulator.faults = [
        { kind: "drop", method: "POST", times: 1 },
        { kind: "status", status: 401, method: "GET", after: 1 },
      ];
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { trigger: 2 }),
      );
      const recorded = recordedBy(error);
      ctx.emulator.faults = [];
      assert.strictEqual(ctx.emulator.rotations().length, 1);

      // Refresh records the live (still valid) credentials and keeps the rotation owed.
      const refreshed = await provider.read!(created.id, recorded);
      assert.strictEqual(refreshed.props!.token, created.state.token);
      assert.ok(refreshed.props!.pendingRotation);
      const healed = await updateThroughProvider(created.id, refreshed.props!, { trigger: 2 });
      assert.strictEqual(ctx.emulator.rotations().length, 2);
      assert.notStrictEqual(healed.state.token, created.state.token);
      assert.strictEqual(healed.state.pendingRotation, undefined);
    });

    it("a create checks against a reading taken before its reset", async () => {
      ctx.emulator.faults = [{ kind: "hang", afterWork: true, method: "POST", times: 1 }];
      const restore = setEnvironment({ UPSTASH_API_TIMEOUT_MS: "300" });
      try {
        const created = await createThroughProvider({ target: REDIS });
        assert.strictEqual(ctx.emulator.rotations().length, 1);
        assert.strictEqual(created.state.token, liveRedis().rest_token);
      } finally {
        restore();
      }
    });
  });

  describe("a reset still on its way is never sent twice", () => {
    it("a reset that lands after the client gave up is found by the readings that follow", async () => {
      const created = await createThroughProvider({ target: REDIS, trigger: 1 });
      ctx.emulator.faults = [{ kind: "latency", ms: 1200, method: "POST", times: 1 }];
      const restore = setEnvironment({ UPSTASH_API_TIMEOUT_MS: "400" });
      try {
        const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
        assert.strictEqual(ctx.emulator.rotations().length, 2);
        assert.strictEqual(updated.state.token, liveRedis().rest_token);
      } finally {
        restore();
      }
    });

    it("one that lands even later is a partial failure, and the next up records it without a reset", async () => {
      const created = await createThroughProvider({ target: VECTOR, trigger: 1 });
      ctx.emulator.faults = [{ kind: "latency", ms: 4000, method: "POST", times: 1 }];
      const restore = setEnvironment({ UPSTASH_API_TIMEOUT_MS: "300" });
      let error: Error;
      try {
        error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
      } finally {
        restore();
      }
      assert.match(error.message, /may still take effect/);
      assert.match(error.message, /not sent again blindly/);
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, undefined);
      // The slow reset lands; then the next `pulumi up`.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.strictEqual(ctx.emulator.rotations().length, 2);
      const healed = await updateThroughProvider(created.id, recorded, { trigger: 2 });
      assert.strictEqual(ctx.emulator.rotations().length, 2, "the next up reset again");
      assert.strictEqual(
        healed.state.token,
        ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token,
      );
    });
  });

  describe("a promised revocation happens or fails loudly", () => {
    it("a reset answered OK that changes nothing is not taken as a revocation", async () => {
      const created = await createThroughProvider({ target: VECTOR, onDelete: "rotate" });
      ctx.emulator.faults = [{ kind: "status", status: 200, body: '"OK"', method: "POST" }];
      const error = await failureOf(provider.delete!(created.id, created.state));
      assert.match(error.message, /still reports the previous credentials/);
      assert.strictEqual(
        ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!.token,
        created.state.token,
      );
    });

    it("deleting a resource whose create never handed anything out leaves others' credentials alone", async () => {
      const existing = await createThroughProvider({ target: REDIS });
      // A second resource for the same database (a rename without alias) fails to create.
      ctx.emulator.faults = [
        { kind: "drop", method: "POST", times: 1 },
        { kind: "status", status: 401, method: "GET", after: 1 },
      ];
      const error = await failureOf(createThroughProvider({ target: REDIS, onDelete: "rotate" }));
      const recorded = recordedBy(error);
      ctx.emulator.faults = [];
      await provider.delete!(`redis/${FIXTURE_IDS.redis}`, recorded);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
      assert.strictEqual(liveRedis().rest_token, existing.state.token);
    });
  });

  describe("QStash: the account-level API only when the v2 API is proven absent", () => {
    it("one 404 from the users list with several users does not fall back to the account-level API", async () => {
      addQStashUser(ctx.emulator.data);
      ctx.emulator.faults = [
        { kind: "status", status: 404, method: "GET", path: "^/v2/qstash/users$", times: 1 },
      ];
      const error = await failureOf(createThroughProvider({ target: { type: "qstash" } }));
      assert.match(error.message, /not falling back to the account-level API/);
      assert.strictEqual(ctx.emulator.rotations().length, 0);
    });

    it("a legacy resource's id is qstash/account, which CredentialRotation.get reads", async () => {
      ctx.emulator.legacyQStashOnly = true;
      const created = await createThroughProvider({ target: { type: "qstash" } });
      assert.strictEqual(created.id, "qstash/account");
      const read = await provider.read!(created.id, undefined as never);
      assert.strictEqual(read.props!.token, created.state.token);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
    });
  });

  describe("URLs consumers can use, and refresh of every credential field", () => {
    it("a Redis endpoint given as a bare slug becomes a full host in restUrl, redisUrl and env", async () => {
      liveRedis().endpoint = "beloved-stallion-58500";
      const created = await createThroughProvider({ target: REDIS });
      assert.strictEqual(created.state.restUrl, "https://beloved-stallion-58500.upstash.io");
      assert.strictEqual(created.state.endpoint, "beloved-stallion-58500.upstash.io");
      assert.match(created.state.redisUrl!, /@beloved-stallion-58500\.upstash\.io:\d+$/);
      assert.strictEqual(
        created.state.env!.UPSTASH_REDIS_REST_URL,
        "https://beloved-stallion-58500.upstash.io",
      );
    });

    it("refresh records drift of endpoint, port and restUrl, not only of tokens", async () => {
      const created = await createThroughProvider({ target: REDIS });
      liveRedis().endpoint = "eu1-moved-12345.upstash.io";
      liveRedis().port = 6380;
      const read = await provider.read!(created.id, created.state);
      assert.strictEqual(read.props!.endpoint, "eu1-moved-12345.upstash.io");
      assert.strictEqual(read.props!.port, 6380);
      assert.strictEqual(read.props!.restUrl, "https://eu1-moved-12345.upstash.io");
      assert.match(read.props!.redisUrl!, /@eu1-moved-12345\.upstash\.io:6380$/);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
    });
  });

  describe("no plaintext derivative of a secret", () => {
    it("the state holds no hash of the trigger; a changed trigger still rotates", async () => {
      const trigger = "1234";
      const created = await createThroughProvider({ target: REDIS, trigger });
      const digest = createHash("sha256").update(JSON.stringify(trigger)).digest("hex");
      assert.ok(!JSON.stringify(created.state).includes(digest));
      assert.strictEqual(created.state.triggerHash, undefined);
      const same = await updateThroughProvider(created.id, created.state, { trigger: "1234" });
      assert.strictEqual(same.changed, false);
      await updateThroughProvider(created.id, created.state, { trigger: "1235" });
      assert.strictEqual(ctx.emulator.rotations().length, 2);
    });
  });

  describe("reading without state (CredentialRotation.get, import)", () => {
    it("reads the live credentials by id and resets nothing", async () => {
      const read = await provider.read!(`redis/${FIXTURE_IDS.redis}`, undefined as never);
      assert.strictEqual(read.props!.token, liveRedis().rest_token);
      assert.deepStrictEqual(read.props!.target, REDIS);
      assert.deepStrictEqual(
        { trigger: read.inputs!.trigger, onDelete: read.inputs!.onDelete },
        { trigger: null, onDelete: "keep" },
      );
      assert.strictEqual(ctx.emulator.rotations().length, 0);
    });

    it("an id it cannot read says which ids it takes", async () => {
      const error = await failureOf(provider.read!("96ad0856", {} as never));
      assert.match(error.message, /ids look like redis\/<databaseId>/);
    });
  });
});

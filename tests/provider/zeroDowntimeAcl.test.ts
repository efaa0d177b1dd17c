import assert from "assert";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import type { Fault } from "../../emulator/server";
import { addRedis, FIXTURE_IDS } from "../../emulator/state";
import type { RotationState } from "../../provider";
import { loadSerializedProvider, serializeProvider } from "../harness/serializedProvider";
import { aclPasswords, asAdmin, pingStatus, redisRest, sha256 } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { assertNoSecrets } from "../helpers/secrets";
import { UNKNOWN_VALUE } from "../../provider/trigger";
import { failureOf, recordedBy } from "../helpers/failures";

const APP = { type: "redis", databaseId: FIXTURE_IDS.redis, user: "app" } as const;

describe("Redis ACL user: overlapping credentials (zero-downtime rotation)", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const db = () => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
  /** ACL commands and PINGs sent to the data plane (POST = ACL command, GET = verification). */
  const dataPlane = (method?: string) =>
    ctx.dataPlaneLog.filter((entry) => !method || entry.method === method);
  /** The data-plane POST (ACL command) after `after` others takes effect; its answer is lost. */
  const answerLost = (after: number): Fault => ({
    kind: "drop",
    afterWork: true,
    method: "POST",
    path: "^/data-plane/",
    after,
    times: 1,
  });
  /** Every data-plane POST after `after` others is answered 500. */
  const failingFrom = (after: number): Fault => ({
    kind: "status",
    status: 500,
    method: "POST",
    path: "^/data-plane/",
    after,
    times: 50,
  });
  /** Refuses the data-plane POST (ACL command) after `after` others with a 400 and Redis's words. */
  const refuseAclCommand = (after: number, error: string) => {
    ctx.emulator.faults = [
      {
        kind: "status",
        status: 400,
        method: "POST",
        path: "^/data-plane/",
        after,
        times: 1,
        body: JSON.stringify({ error }),
        contentType: "application/json",
      },
    ];
  };

  it("create issues a password for a new user, proves it with PING and hands it out; the database's own credentials are untouched", async () => {
    const before = { ...db() };
    const { id, state } = await createThroughProvider({ target: APP });
    assert.strictEqual(id, `redis/${FIXTURE_IDS.redis}/user/app`);
    assert.strictEqual(ctx.emulator.rotations().length, 0, "no Developer API reset");
    assert.strictEqual(db().rest_token, before.rest_token);
    assert.strictEqual(state.user, "app");
    assert.strictEqual(state.password, state.token);
    assert.strictEqual(
      state.redisUrl,
      `rediss://app:${encodeURIComponent(state.token!)}@${db().endpoint}:${db().port}`,
    );
    assert.deepStrictEqual(state.env, {
      UPSTASH_REDIS_REST_URL: `https://${db().endpoint}`,
      UPSTASH_REDIS_REST_TOKEN: state.token,
    });
    assert.deepStrictEqual(state.aclPasswords, { current: sha256(state.token!) });
    assert.strictEqual(await pingStatus(ctx.emulator, state.token!), 200);
    assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [sha256(state.token!)]);
    assert.ok(
      dataPlane("GET").some((entry) => entry.path.endsWith("/ping") && entry.status === 200),
      "the new password was not proven with PING",
    );
    // The admin channel (the database's own REST token) is never stored.
    const stored = JSON.stringify(state);
    for (const secret of [db().rest_token, db().password, db().read_only_rest_token]) {
      assert.ok(!stored.includes(secret), "the state holds the database's own credentials");
    }
    // Default rules: everything but the dangerous commands.
    assert.strictEqual(
      (await redisRest(ctx.emulator, state.token!, ["SET", "k", "v"])).status,
      200,
    );
    const flush = await redisRest(ctx.emulator, state.token!, ["FLUSHALL"]);
    assert.strictEqual(flush.status, 400);
    assert.match(flush.error ?? "", /NOPERM/);
  });

  it("after each of three rotations exactly {current, previous} work (PING)", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 0 });
    const tokens = [created.state.token!];
    let state = created.state;
    for (let rotation = 1; rotation <= 3; rotation++) {
      state = (await updateThroughProvider(created.id, state, { trigger: rotation })).state;
      tokens.push(state.token!);
      const statuses = await Promise.all(tokens.map((token) => pingStatus(ctx.emulator, token)));
      const expected = tokens.map((_token, index) => (index >= rotation - 1 ? 200 : 401));
      assert.deepStrictEqual(statuses, expected, `after rotation ${rotation}`);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(tokens[rotation - 1]), sha256(tokens[rotation])].sort(),
      );
      assert.deepStrictEqual(state.aclPasswords, {
        current: sha256(tokens[rotation]),
        previous: sha256(tokens[rotation - 1]),
      });
      assert.strictEqual(state.rotationCount, rotation + 1);
    }
    assert.strictEqual(ctx.emulator.rotations().length, 0, "no Developer API reset");
  });

  it("a rules change alone is applied without rotating", async () => {
    const created = await createThroughProvider({ target: APP });
    const posts = dataPlane("POST").length;
    const updated = await updateThroughProvider(created.id, created.state, {
      target: { ...APP, rules: ["~cache:*", "+get", "+set"] },
    });
    assert.strictEqual(updated.changed, true);
    assert.deepStrictEqual(updated.replaces, []);
    assert.strictEqual(updated.state.token, created.state.token, "rotated on a rules change");
    assert.strictEqual(dataPlane("POST").length - posts, 2, "more than GETUSER and one SETUSER");
    assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [sha256(created.state.token!)]);
    const token = created.state.token!;
    assert.strictEqual((await redisRest(ctx.emulator, token, ["SET", "cache:x", "1"])).status, 200);
    const denied = await redisRest(ctx.emulator, token, ["SET", "other", "1"]);
    assert.match(denied.error ?? "", /NOPERM/);
    assert.match((await redisRest(ctx.emulator, token, ["DEL", "cache:x"])).error ?? "", /NOPERM/);
  });

  it("another user, or leaving ACL mode, is a replacement", async () => {
    const created = await createThroughProvider({ target: APP });
    const other = await provider.diff!(created.id, created.state, {
      ...created.state,
      target: { ...APP, user: "worker" },
    });
    assert.deepStrictEqual(other.replaces, ["target"]);
    const database = await provider.diff!(created.id, created.state, {
      ...created.state,
      target: { type: "redis", databaseId: FIXTURE_IDS.redis },
    });
    assert.deepStrictEqual(database.replaces, ["target"], "leaving ACL mode is a replacement");
  });

  it("in preview an unknown rules list is an update; an unknown user or database may be another target (replacement)", async () => {
    const created = await createThroughProvider({ target: APP });
    const diffWith = (target: Record<string, unknown>) =>
      provider.diff!(created.id, created.state, {
        ...created.state,
        target: target as unknown as typeof APP,
      });
    const rules = await diffWith({ ...APP, rules: UNKNOWN_VALUE });
    assert.strictEqual(rules.changes, true);
    assert.deepStrictEqual(rules.replaces, []);
    const oneRule = await diffWith({ ...APP, rules: ["~*", UNKNOWN_VALUE] });
    assert.deepStrictEqual(oneRule.replaces, []);
    assert.deepStrictEqual((await diffWith({ ...APP, user: UNKNOWN_VALUE })).replaces, ["target"]);
    assert.deepStrictEqual((await diffWith({ ...APP, databaseId: UNKNOWN_VALUE })).replaces, [
      "target",
    ]);
  });

  it("works when the provider is loaded the way the dynamic-provider host loads it (ACL user, signing keys)", async () => {
    const { text, containsSecrets } = await serializeProvider();
    assert.strictEqual(containsSecrets, false);
    const loaded = loadSerializedProvider(text);
    const checked = await loaded.check!({}, { target: APP, trigger: 1 });
    assert.deepStrictEqual(checked.failures, []);
    const created = await loaded.create(checked.inputs);
    const rotated = await loaded.update!(created.id, created.outs, {
      ...checked.inputs,
      trigger: 2,
    });
    assert.strictEqual(await pingStatus(ctx.emulator, created.outs.token), 200);
    assert.strictEqual(await pingStatus(ctx.emulator, rotated.outs!.token), 200);
    const keys = await loaded.check!({}, { target: { type: "qstash-signing-keys" } });
    const adopted = await loaded.create(keys.inputs);
    assert.ok(adopted.outs.currentSigningKey);
    // Errors keep their names and messages there too.
    ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!.db_acl_enabled = "false";
    await assert.rejects(
      loaded.update!(created.id, rotated.outs, { ...checked.inputs, trigger: 3 }),
      (error: Error) => error.name === "AclUnavailableError" && /free tier/.test(error.message),
    );
  });

  describe("refresh records drift", () => {
    it("a refresh while ACL is switched off keeps what delete needs to revoke the passwords", async () => {
      const created = await createThroughProvider({ target: APP, onDelete: "rotate" });
      db().db_acl_enabled = "false";
      const read = await provider.read!(created.id, created.state);
      db().db_acl_enabled = "true";
      await provider.delete!(created.id, read.props!);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
    });

    it("the current password removed elsewhere: no credentials are handed out, and the next up issues new ones", async () => {
      const created = await createThroughProvider({ target: APP });
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `<${created.state.token}`]);
      const read = await provider.read!(created.id, created.state);
      assert.strictEqual(read.id, created.id);
      assert.strictEqual(read.props!.token, undefined);
      assert.strictEqual(read.props!.env, undefined);
      assert.strictEqual(read.props!.redisUrl, undefined);
      assert.strictEqual(read.props!.user, "app");
      const diff = await provider.diff!(created.id, read.props!, created.state);
      assert.strictEqual(diff.changes, true);
      const healed = await updateThroughProvider(created.id, read.props!, {});
      assert.notStrictEqual(healed.state.token, undefined);
      assert.strictEqual(await pingStatus(ctx.emulator, healed.state.token!), 200);
    });

    it("the user deleted elsewhere: no credentials; the next up recreates the user", async () => {
      const created = await createThroughProvider({ target: APP });
      await asAdmin(ctx.emulator, ["ACL", "DELUSER", "app"]);
      const read = await provider.read!(created.id, created.state);
      assert.strictEqual(read.props!.token, undefined);
      const healed = await updateThroughProvider(created.id, read.props!, {});
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(healed.state.token!),
      ]);
    });

    it("nothing changed: refresh reports the state as it was", async () => {
      const created = await createThroughProvider({ target: APP });
      const read = await provider.read!(created.id, created.state);
      assert.deepStrictEqual(read.props, created.state);
    });

    it("the database deleted: the resource is gone", async () => {
      const created = await createThroughProvider({ target: APP });
      ctx.emulator.data.redis.delete(FIXTURE_IDS.redis);
      assert.strictEqual((await provider.read!(created.id, created.state)).id, "");
    });
  });

  it("incident response: changing revokeAllOn kills every password of the user in one up, also ones this resource never issued", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1 });
    const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    // A password someone else added by hand.
    const outside = (await asAdmin(ctx.emulator, ["ACL", "GENTOKEN", "app"])).result as string;
    await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `>${outside}`]);
    const old = [created.state.token!, rotated.state.token!, outside];
    assert.deepStrictEqual(
      await Promise.all(old.map((token) => pingStatus(ctx.emulator, token))),
      [200, 200, 200],
    );

    const revoked = await updateThroughProvider(created.id, rotated.state, {
      revokeAllOn: "leak-2026-11-23",
    });
    assert.deepStrictEqual(
      await Promise.all(old.map((token) => pingStatus(ctx.emulator, token))),
      [401, 401, 401],
    );
    assert.strictEqual(await pingStatus(ctx.emulator, revoked.state.token!), 200);
    assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [sha256(revoked.state.token!)]);
    assert.deepStrictEqual(revoked.state.aclPasswords, { current: sha256(revoked.state.token!) });

    // The next rotation overlaps again.
    const next = await updateThroughProvider(created.id, revoked.state, { trigger: 3 });
    assert.strictEqual(await pingStatus(ctx.emulator, revoked.state.token!), 200);
    assert.strictEqual(await pingStatus(ctx.emulator, next.state.token!), 200);
  });

  it("incident response on a user an operator switched off: every password goes, the user is on again with only the new one", async () => {
    const created = await createThroughProvider({ target: APP });
    await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", "off"]);
    const revoked = await updateThroughProvider(created.id, created.state, { revokeAllOn: 1 });
    assert.strictEqual(await pingStatus(ctx.emulator, revoked.state.token!), 200);
    assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
    assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [sha256(revoked.state.token!)]);
  });

  describe("exactly {current, previous} after a rotation, whoever added the others", () => {
    it('a replacement with onDelete "keep": its create leaves the replaced passwords working, its first rotation removes them', async () => {
      const old = await createThroughProvider({ target: APP, trigger: 1 });
      const oldRotated = await updateThroughProvider(old.id, old.state, { trigger: 2 });
      const replacement = await createThroughProvider({ target: APP, trigger: 1 });
      await provider.delete!(old.id, oldRotated.state); // onDelete "keep": nothing sent
      for (const token of [old.state.token!, oldRotated.state.token!, replacement.state.token!]) {
        assert.strictEqual(await pingStatus(ctx.emulator, token), 200, "create removed one");
      }
      const rotated = await updateThroughProvider(replacement.id, replacement.state, {
        trigger: 2,
      });
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(replacement.state.token!), sha256(rotated.state.token!)].sort(),
      );
      assert.strictEqual(await pingStatus(ctx.emulator, old.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, oldRotated.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, replacement.state.token!), 200);
    });

    it("a password added by hand survives until the next rotation, which leaves exactly {current, previous}", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const extra = (await asAdmin(ctx.emulator, ["ACL", "GENTOKEN", "app"])).result as string;
      assert.strictEqual(
        (await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `>${extra}`])).status,
        200,
      );
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      assert.strictEqual(await pingStatus(ctx.emulator, extra), 401);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(created.state.token!), sha256(rotated.state.token!)].sort(),
      );
    });

    it("the current password removed elsewhere: the heal keeps the previous one, which consumers may still hold", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `!${sha256(rotated.state.token!)}`]);
      const refreshed = await provider.read!(created.id, rotated.state);
      assert.strictEqual(refreshed.props!.token, undefined);
      const healed = await updateThroughProvider(created.id, refreshed.props!, { trigger: 2 });
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200, "cut off");
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(created.state.token!), sha256(healed.state.token!)].sort(),
      );
      assert.strictEqual(healed.state.aclPasswords?.previous, sha256(created.state.token!));
    });

    it("a user deleted elsewhere and recreated by a run whose answer was lost: no dead credential is kept, and the next up hands out a working one", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      await asAdmin(ctx.emulator, ["ACL", "DELUSER", "app"]);
      // POSTs: GETUSER (gone), GETUSER, GENTOKEN, the SETUSER that recreates it, then readings.
      ctx.emulator.faults = [answerLost(3), failingFrom(4)];
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, {
          target: { ...APP, rules: ["~*", "+@all"] },
        }),
      );
      ctx.emulator.faults = [];
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, undefined, "a dead password is still handed out");
      const healed = await updateThroughProvider(created.id, recorded, {
        target: { ...APP, rules: ["~*", "+@all"] },
      });
      assert.strictEqual(await pingStatus(ctx.emulator, healed.state.token!), 200);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(healed.state.token!),
      ]);
    });

    it("a handed-out password removed elsewhere while the state was not refreshed: the next up issues a working one", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `!${sha256(created.state.token!)}`]);
      const updated = await updateThroughProvider(created.id, created.state, {
        target: { ...APP, rules: ["~*", "+@all"] },
      });
      assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
    });

    it("a refresh while the user was switched off drops the outputs; once it is on again, the heal keeps the current password", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", "off"]);
      const refreshed = await provider.read!(created.id, rotated.state);
      assert.strictEqual(refreshed.props!.token, undefined);
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", "on"]);
      const healed = await updateThroughProvider(created.id, refreshed.props!, { trigger: 2 });
      assert.strictEqual(await pingStatus(ctx.emulator, rotated.state.token!), 200, "cut off");
      assert.strictEqual(await pingStatus(ctx.emulator, healed.state.token!), 200);
      assert.strictEqual(healed.state.aclPasswords?.previous, sha256(rotated.state.token!));
    });

    it("a rotation without a handed-out password (the last one was lost) removes none but this resource's own", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const extra = (await asAdmin(ctx.emulator, ["ACL", "GENTOKEN", "app"])).result as string;
      await asAdmin(ctx.emulator, [
        "ACL",
        "SETUSER",
        "app",
        `>${extra}`,
        `!${sha256(created.state.token!)}`,
      ]);
      const refreshed = await provider.read!(created.id, created.state);
      assert.strictEqual(refreshed.props!.token, undefined);
      const healed = await updateThroughProvider(created.id, refreshed.props!, { trigger: 1 });
      assert.strictEqual(await pingStatus(ctx.emulator, healed.state.token!), 200);
      assert.strictEqual(
        await pingStatus(ctx.emulator, extra),
        200,
        "a holder of the hand-added password was cut off",
      );
    });
  });

  describe("rules on an existing user", () => {
    const CACHE_ONLY = ["~cache:*", "+get", "+set"];
    /** A rotation that also narrows the rules to CACHE_ONLY. */
    const rotateToCacheOnly = (id: string, state: RotationState, trigger: number) =>
      updateThroughProvider(id, state, { trigger, target: { ...APP, rules: CACHE_ONLY } });
    const canWrite = async (token: string, key: string) =>
      (await redisRest(ctx.emulator, token, ["SET", key, "1"])).status === 200;

    it("create without rules on an existing user keeps the user's rules; with rules it applies them once the new password is proven", async () => {
      const first = await createThroughProvider({ target: { ...APP, rules: CACHE_ONLY } });
      const adopting = await createThroughProvider({ target: APP });
      assert.strictEqual(await canWrite(adopting.state.token!, "cache:a"), true);
      assert.strictEqual(
        await canWrite(adopting.state.token!, "other"),
        false,
        "rules were widened",
      );
      assert.strictEqual(await canWrite(first.state.token!, "other"), false);

      const widening = await createThroughProvider({ target: { ...APP, rules: ["~*", "+@all"] } });
      assert.strictEqual(await canWrite(widening.state.token!, "other"), true);
      // Leaving rules out later changes nothing either.
      const posts = dataPlane("POST").length;
      const update = await updateThroughProvider(widening.id, widening.state, { target: APP });
      assert.strictEqual(dataPlane("POST").length, posts, "an ACL command was sent");
      assert.strictEqual(await canWrite(update.state.token!, "other"), true);
    });

    it("a rules change with a trigger change whose new password fails the proof leaves the rules as they were", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 1000 });
      const error = await failureOf(rotateToCacheOnly(created.id, created.state, 2));
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
      assert.match(error.message, /nothing changed/);
      assert.strictEqual(await canWrite(created.state.token!, "other"), true, "the rules changed");
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(created.state.token!),
      ]);
      const retried = await rotateToCacheOnly(created.id, created.state, 2);
      assert.strictEqual(await canWrite(retried.state.token!, "other"), false);
      assert.strictEqual(await canWrite(created.state.token!, "cache:b"), true);
    });

    it("rules the database refuses withdraw the new password: nothing changed", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      // POSTs of the rotation: GETUSER, GENTOKEN, SETUSER >new, then the SETUSER with the rules.
      refuseAclCommand(
        3,
        "ERR Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name",
      );
      const error = await failureOf(rotateToCacheOnly(created.id, created.state, 2));
      assert.match(
        error.message,
        /refused the new rules of ACL user "app".*, so the new password was removed again/,
      );
      assert.match(error.message, /nothing changed/);
      assert.strictEqual((error as { properties?: unknown }).properties, undefined);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(created.state.token!),
      ]);
      assert.strictEqual(await canWrite(created.state.token!, "other"), true);
    });

    /** Two rotations, then a third whose removal of the oldest password fails after the proof. */
    const removalFailedAfterProof = async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const second = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      // POSTs: GETUSER, GENTOKEN, SETUSER >new, GETUSER, then the removal, refused for good.
      ctx.emulator.faults = [failingFrom(4)];
      const error = await failureOf(
        updateThroughProvider(created.id, second.state, { trigger: 3 }),
      );
      ctx.emulator.faults = [];
      return { created, second, recorded: recordedBy(error) };
    };

    it("a removal that failed after the proof, then a new trigger before the retry: the password consumers hold survives", async () => {
      const { created, second, recorded } = await removalFailedAfterProof();
      assert.strictEqual(recorded.aclPasswords?.undelivered, true);
      // The failed run delivered nothing: consumers still hold the second token. A refresh keeps that.
      const refreshed = (await provider.read!(created.id, recorded)).props!;
      assert.strictEqual(
        (await provider.diff!(created.id, refreshed, { ...refreshed })).changes,
        true,
        "a no-change up would deliver the recorded token without clearing the marker",
      );
      const fourth = await updateThroughProvider(created.id, refreshed, { trigger: 4 });
      assert.strictEqual(await pingStatus(ctx.emulator, second.state.token!), 200, "cut off");
      assert.strictEqual(await pingStatus(ctx.emulator, recorded.token!), 401);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(second.state.token!), sha256(fourth.state.token!)].sort(),
      );
      assert.strictEqual(fourth.state.aclPasswords?.undelivered, undefined);
    });

    it("a removal that failed after the proof: the retry delivers the recorded password and clears the marker", async () => {
      const { created, recorded } = await removalFailedAfterProof();
      const retried = await updateThroughProvider(created.id, recorded, { trigger: 3 });
      assert.strictEqual(retried.state.aclPasswords?.undelivered, undefined);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, retried.state.token!), 200);
    });

    it("a rules SETUSER whose answer is lost is repeated (rules alone change no password) and the rules are in force", async () => {
      for (const fault of [
        { kind: "drop", afterWork: false },
        { kind: "status", status: 500 },
      ] as const) {
        const user = `rules-${fault.kind}`;
        const created = await createThroughProvider({ target: { ...APP, user }, trigger: 1 });
        // POSTs of the rotation: GETUSER, GENTOKEN, SETUSER >new, then the rules SETUSER.
        ctx.emulator.faults = [
          { ...fault, method: "POST", path: "^/data-plane/", after: 3, times: 1 },
        ];
        const rotated = await updateThroughProvider(created.id, created.state, {
          trigger: 2,
          target: { ...APP, user, rules: CACHE_ONLY },
        });
        ctx.emulator.faults = [];
        assert.strictEqual(await canWrite(rotated.state.token!, "other"), false, fault.kind);
        assert.strictEqual(await canWrite(rotated.state.token!, "cache:x"), true, fault.kind);
      }
    });

    it("a create on an existing user whose SETUSER fate is unknown leaves its rules to the next up", async () => {
      await createThroughProvider({ target: APP }); // the user exists, with the default rules
      ctx.emulator.faults = [
        { kind: "drop", method: "POST", path: "^/data-plane/", after: 2, times: 4 },
      ];
      const error = await failureOf(
        createThroughProvider({ target: { ...APP, rules: CACHE_ONLY } }),
      );
      ctx.emulator.faults = [];
      const recorded = recordedBy(error);
      const healed = await updateThroughProvider(`redis/${FIXTURE_IDS.redis}/user/app`, recorded, {
        target: { ...APP, rules: CACHE_ONLY },
      });
      assert.strictEqual(await canWrite(healed.state.token!, "cache:x"), true);
      assert.strictEqual(
        await canWrite(healed.state.token!, "other"),
        false,
        "rules never applied",
      );
    });

    it("a removal refused because a password went missing meanwhile: the rules are applied anyway, and the next up removes the rest", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const second = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      // POSTs: GETUSER, GENTOKEN, SETUSER >new, rules SETUSER, GETUSER, then the removal.
      refuseAclCommand(
        5,
        "ERR Error in ACL SETUSER modifier: The password you are trying to remove from the user does not exist",
      );
      const error = await failureOf(rotateToCacheOnly(created.id, second.state, 3));
      ctx.emulator.faults = [];
      assert.match(
        error.message,
        /issued, proven and recorded, but removing the older passwords failed/,
      );
      const recorded = recordedBy(error);
      assert.strictEqual(await canWrite(recorded.token!, "other"), false, "the rules were lost");
      assert.deepStrictEqual(recorded.aclPasswords?.retired, [sha256(created.state.token!)]);
      await rotateToCacheOnly(created.id, recorded, 3);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(second.state.token!), sha256(recorded.token!)].sort(),
      );
    });
  });

  describe("delete", () => {
    it('onDelete "rotate" deletes the user when every password on it is this resource\'s', async () => {
      const created = await createThroughProvider({ target: APP, onDelete: "rotate", trigger: 1 });
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      await provider.delete!(created.id, rotated.state);
      assert.strictEqual(await aclPasswords(ctx.emulator, "app"), undefined, "user not deleted");
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, rotated.state.token!), 401);
    });

    it("after a replacement, delete removes only this resource's passwords and leaves the replacement's working", async () => {
      const old = await createThroughProvider({ target: APP, onDelete: "rotate", trigger: 1 });
      const oldRotated = await updateThroughProvider(old.id, old.state, { trigger: 2 });
      // The engine creates the replacement first (it adds its password to the same user) …
      const replacement = await createThroughProvider({ target: APP, onDelete: "rotate" });
      assert.strictEqual(await pingStatus(ctx.emulator, oldRotated.state.token!), 200);
      // … then deletes the replaced resource.
      await provider.delete!(old.id, oldRotated.state);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(replacement.state.token!),
      ]);
      assert.strictEqual(await pingStatus(ctx.emulator, replacement.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, old.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, oldRotated.state.token!), 401);
    });

    it('onDelete "rotate" on a user this resource found removes its passwords but not the user', async () => {
      const extra = (await asAdmin(ctx.emulator, ["ACL", "GENTOKEN", "app"])).result as string;
      await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", "on", `>${extra}`, "~cache:*", "+get"]);
      const created = await createThroughProvider({ target: APP, onDelete: "rotate", trigger: 1 });
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      await provider.delete!(created.id, rotated.state);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [], "the user was deleted");
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
      assert.strictEqual(await pingStatus(ctx.emulator, rotated.state.token!), 401);
    });

    it("a create whose SETUSER landed but could not be read back: the next up finishes, and delete still deletes the user it created", async () => {
      ctx.emulator.faults = [answerLost(2), failingFrom(3)];
      const error = await failureOf(createThroughProvider({ target: APP, onDelete: "rotate" }));
      ctx.emulator.faults = [];
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, undefined);
      assert.strictEqual(recorded.userCreated, true);
      const id = `redis/${FIXTURE_IDS.redis}/user/app`;
      const healed = await updateThroughProvider(id, recorded, {});
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(healed.state.token!),
      ]);
      await provider.delete!(id, healed.state);
      assert.strictEqual(await aclPasswords(ctx.emulator, "app"), undefined, "user left behind");
    });

    it('onDelete "keep" leaves the user and its passwords', async () => {
      const created = await createThroughProvider({ target: APP });
      const posts = ctx.dataPlaneLog.length;
      await provider.delete!(created.id, created.state);
      assert.strictEqual(ctx.dataPlaneLog.length, posts, "keep made a data-plane call");
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
    });
  });

  describe("databases without ACL", () => {
    it("db_acl_enabled false (free tier): a clear error naming the cause and the alternative; nothing reset or sent", async () => {
      const free = addRedis(ctx.emulator.data);
      free.db_acl_enabled = "false";
      const before = { ...free };
      const error = await failureOf(
        createThroughProvider({ target: { ...APP, databaseId: free.database_id } }),
      );
      assert.strictEqual(error.name, "AclUnavailableError");
      assert.match(error.message, /db_acl_enabled/);
      assert.match(error.message, /free tier has no ACL/);
      assert.match(error.message, /remove target\.user/);
      assert.match(error.message, /Nothing was changed/);
      assert.strictEqual(ctx.emulator.rotations().length, 0);
      assert.deepStrictEqual(ctx.dataPlaneLog, [], "an ACL call was sent");
      assert.strictEqual(free.rest_token, before.rest_token);
      assertNoSecrets(error, [free.rest_token, free.password]);
    });

    it("ACL refused over REST (400): the same clear error, nothing changed", async () => {
      ctx.emulator.faults = [
        {
          kind: "status",
          status: 400,
          method: "POST",
          path: "^/data-plane/",
          body: '{"error":"ERR ACL is not supported over REST"}',
          contentType: "application/json",
        },
      ];
      const error = await failureOf(createThroughProvider({ target: APP }));
      assert.strictEqual(error.name, "AclUnavailableError");
      assert.match(error.message, /refused ACL over its REST API/);
      assert.match(error.message, /not supported over REST/);
      assert.match(error.message, /remove target\.user/);
      assert.strictEqual(ctx.emulator.rotations().length, 0);
      ctx.emulator.faults = [];
      assert.strictEqual(await aclPasswords(ctx.emulator, "app"), undefined);
      assertNoSecrets(error, [db().rest_token]);
    });

    for (const { command, after, said } of [
      { command: "GENTOKEN", after: 1, said: "ERR unknown subcommand 'GENTOKEN'. Try ACL HELP." },
      {
        command: "SETUSER",
        after: 2,
        said: "NOPERM this user has no permissions to run the 'acl|setuser' command",
      },
    ]) {
      it(`a database that refuses only ACL ${command}: the same guidance as no ACL, nothing changed`, async () => {
        const created = await createThroughProvider({ target: APP, trigger: 1 });
        const before = await aclPasswords(ctx.emulator, "app");
        // GETUSER goes through; the refusal hits the command after it.
        refuseAclCommand(after, said);
        const error = await failureOf(
          updateThroughProvider(created.id, created.state, { trigger: 2 }),
        );
        ctx.emulator.faults = [];
        assert.strictEqual(error.name, "AclUnavailableError");
        assert.match(error.message, new RegExp(`refused ACL ${command}`));
        assert.match(error.message, /remove target\.user.*Nothing was changed/);
        assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), before);
        assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
      });
    }

    it("the database reset by another resource in the same up: the ACL rotation re-reads the admin token once and finishes", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      // Holds the rotation's first ACL command while the database is reset elsewhere.
      ctx.emulator.faults = [
        { kind: "latency", ms: 600, method: "POST", path: "^/data-plane/", times: 1 },
      ];
      const rotation = updateThroughProvider(created.id, created.state, { trigger: 2 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await resetOutsidePulumi(ctx.emulator, FIXTURE_IDS.redis);
      const updated = await rotation;
      assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(created.state.token!), sha256(updated.state.token!)].sort(),
      );
      assert.ok(
        ctx.dataPlaneLog.some((entry) => entry.status === 401),
        "the stale admin token was never refused: the test did not race",
      );
    });
  });

  describe("exactly once", () => {
    it("a SETUSER whose answer is lost is settled by GETUSER, not sent again", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const baseline = ctx.dataPlaneLog.length;
      await updateThroughProvider(created.id, created.state, { trigger: 2 });
      const perRotation = ctx.dataPlaneLog.length - baseline; // GETUSER, GENTOKEN, SETUSER, PING, SETUSER (removal: none yet)

      const again = await createThroughProvider({ target: { ...APP, user: "other" }, trigger: 1 });
      const start = ctx.dataPlaneLog.length;
      // The third data-plane POST of the rotation is the SETUSER that adds the new password.
      ctx.emulator.faults = [answerLost(2)];
      const updated = await updateThroughProvider(again.id, again.state, { trigger: 2 });
      const requests = ctx.dataPlaneLog.slice(start);
      assert.strictEqual(requests[2].fault, "drop");
      assert.strictEqual(
        requests.length,
        perRotation + 1,
        "one GETUSER settles the lost answer; nothing else is sent",
      );
      assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, again.state.token!), 200);
      assert.strictEqual((await aclPasswords(ctx.emulator, "other"))!.length, 2);
    });

    /**
     * A rotation whose password SETUSER (the third data-plane POST) meets `fault`: it is
     * never sent again, the run fails still handing out the working password, and the next
     * up finishes with exactly {previous, new}. Returns the failure, what it recorded and the
     * SETUSER as the emulator logged it.
     */
    async function setUserNeverResent(fault: Fault) {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const start = ctx.dataPlaneLog.length;
      ctx.emulator.faults = [
        { ...fault, method: "POST", path: "^/data-plane/", after: 2, times: 1 },
      ];
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { trigger: 2 }),
      );
      const posts = ctx.dataPlaneLog.slice(start).filter((entry) => entry.method === "POST");
      // GETUSER, GENTOKEN, the SETUSER, then only GETUSER readings.
      assert.strictEqual(posts.length, 6, "the SETUSER was sent again");
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, created.state.token, "the working password was dropped");
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
      const healed = await updateThroughProvider(created.id, recorded, { trigger: 2 });
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(created.state.token!), sha256(healed.state.token!)].sort(),
      );
      return { error, recorded, setUser: posts[2] };
    }

    it("a SETUSER that got no answer at all is never sent again: the rotation fails, the old password works, the next up finishes", async () => {
      const { error, recorded, setUser } = await setUserNeverResent({ kind: "drop" });
      assert.strictEqual(setUser.fault, "drop");
      assert.match(error.message, /GETUSER showed no change over 3 readings/);
      assert.match(error.message, /not sent again\. Run `pulumi up` again/);
      assert.strictEqual(recorded.aclPasswords?.retired?.length, 1);
    });

    it("a SETUSER answered 503 is never sent again: a gateway may have passed it on; the next up finishes", async () => {
      const { setUser } = await setUserNeverResent({ kind: "status", status: 503 });
      assert.strictEqual(setUser.status, 503);
    });

    it("a SETUSER answered 520 that lands 1.5 s later is seen by GETUSER: one rotation, nothing sent twice", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const start = ctx.dataPlaneLog.length;
      ctx.emulator.faults = [
        {
          kind: "status",
          status: 520,
          landsAfterMs: 1500,
          method: "POST",
          path: "^/data-plane/",
          after: 2,
          times: 1,
        },
      ];
      const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      const posts = ctx.dataPlaneLog.slice(start).filter((entry) => entry.method === "POST");
      assert.strictEqual(posts.filter((entry) => entry.status === 520).length, 1);
      assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
      assert.deepStrictEqual(
        [...(await aclPasswords(ctx.emulator, "app"))!].sort(),
        [sha256(created.state.token!), sha256(updated.state.token!)].sort(),
      );
    });
  });

  describe("verification before hand-out", () => {
    it("a new password the data plane rejects is removed again: the rotation fails with nothing lost", async () => {
      const created = await createThroughProvider({ target: APP, trigger: 1 });
      const rotated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      const before = await aclPasswords(ctx.emulator, "app");
      // Every password that did not work yet is refused for a long while.
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 1000 });
      const error = await failureOf(
        updateThroughProvider(created.id, rotated.state, { trigger: 3 }),
      );
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
      assert.match(error.message, /rejected by the data plane, so it was removed again/);
      assert.match(error.message, /nothing changed/);
      assert.strictEqual((error as { properties?: unknown }).properties, undefined);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), before);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, rotated.state.token!), 200);
      assertNoSecrets(error, [created.state.token!, rotated.state.token!, db().rest_token]);
      // The same rotation succeeds once the data plane accepts new passwords.
      const retried = await updateThroughProvider(created.id, rotated.state, { trigger: 3 });
      assert.strictEqual(await pingStatus(ctx.emulator, retried.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, rotated.state.token!), 200);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
    });

    it("a create whose password is rejected deletes the user it created", async () => {
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 1000 });
      const error = await failureOf(createThroughProvider({ target: APP }));
      assert.match(error.message, /removed again/);
      assert.strictEqual(await aclPasswords(ctx.emulator, "app"), undefined);
    });

    it("a password still propagating (a few 401s) is accepted within the retry budget", async () => {
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 2 });
      const { state } = await createThroughProvider({ target: APP });
      const pings = ctx.dataPlaneLog.filter((entry) => entry.path.endsWith("/ping"));
      assert.deepStrictEqual(
        pings.map((entry) => entry.status),
        [401, 401, 200],
      );
      assert.ok(state.token);
    });

    it("an incident revoke whose new password is rejected is a partial failure that hands nothing out; the next up issues a working one", async () => {
      const created = await createThroughProvider({ target: APP });
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 1000 });
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { revokeAllOn: 1 }),
      );
      ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
      assert.match(error.message, /Every password of ACL user "app" .* was revoked/);
      const recorded = recordedBy(error);
      assert.strictEqual(recorded.token, undefined);
      assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
      const healed = await updateThroughProvider(created.id, recorded, { revokeAllOn: 1 });
      assert.strictEqual(await pingStatus(ctx.emulator, healed.state.token!), 200);
      assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [
        sha256(healed.state.token!),
      ]);
    });

    it("verify: false issues the password without a PING", async () => {
      const { state } = await createThroughProvider({ target: APP, verify: false });
      assert.ok(!ctx.dataPlaneLog.some((entry) => entry.path.endsWith("/ping")));
      assert.strictEqual(await pingStatus(ctx.emulator, state.token!), 200);
    });
  });
});

import assert from "assert";
import type { Fault } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { aclPasswords, pingStatus, sha256 } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { useEnvironment } from "../helpers/environment";
import { failureOf, recordedBy } from "../helpers/failures";
import type { RotationState } from "../../provider/operations";

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;
const APP = { type: "redis", databaseId: FIXTURE_IDS.redis, user: "app" } as const;
const KEYS = { type: "qstash-signing-keys" } as const;

/**
 * A change a gateway answered with a 5xx can land long after the three readings that
 * follow it (Cloudflare's 524 comes after 100 s of origin silence). These runs re-run at
 * once, as a CI retry would, and the change lands while the re-run is under way.
 */
describe("a change that lands after its run gave up", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  useEnvironment({ UPSTASH_LATE_LANDING_WINDOW_MS: "8000" });
  const posts = (pattern: RegExp) =>
    ctx.emulator.log.filter((entry) => entry.method === "POST" && pattern.test(entry.path));
  const gateway = (path: string, landsAfterMs?: number, after?: number): Fault => ({
    kind: "status",
    status: 524,
    ...(landsAfterMs === undefined ? {} : { landsAfterMs }),
    method: "POST",
    path,
    times: 1,
    ...(after === undefined ? {} : { after }),
  });

  /** The keys handed out are one roll on from the created ones, and they are QStash's live pair. */
  const assertRolledOnceAndLive = (created: RotationState, updated: RotationState): void => {
    assert.strictEqual(updated.currentSigningKey, created.nextSigningKey);
    const live = ctx.emulator.dataPlane.qstash(
      ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!,
    ).signingKeys;
    assert.deepStrictEqual(
      [updated.currentSigningKey, updated.nextSigningKey],
      [live.current, live.next],
    );
  };

  it("a reset: the re-run waits for it and records it, so only one reset lands and the token handed out works", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    ctx.emulator.faults = [gateway("/v2/redis/reset-password", 4500)];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /first waits until/);
    const recorded = recordedBy(error);
    assert.ok(recorded.unknownOutcomeAt, "the failed run did not mark the unknown outcome");
    assert.strictEqual(ctx.emulator.rotations().length, 1, "it landed before the re-run began");

    const updated = await updateThroughProvider(created.id, recorded, { trigger: 2 });
    assert.strictEqual(
      ctx.emulator.rotations().length,
      2,
      "not exactly one reset for the rotation",
    );
    assert.strictEqual(posts(/reset-password/).length, 2, "the re-run sent a reset of its own");
    assert.ok(ctx.emulator.isCurrentCredential(updated.state.token!), "a dead token handed out");
    assert.strictEqual(updated.state.unknownOutcomeAt, undefined);
    assert.strictEqual(updated.state.pendingRotation, undefined);
  });

  it("a replacement while a reset may still land: the old resource goes first and its delete waits for the landing, so the replacement's credentials live", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    ctx.emulator.faults = [gateway("/v2/redis/reset-password", 4500)];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    const recorded = recordedBy(error);
    // `pulumi up --replace` or a replacementTrigger: the engine asks diff how to replace.
    const diff = await provider.diff!(created.id, recorded, { ...recorded, trigger: 2 } as never);
    assert.strictEqual(diff.deleteBeforeReplace, true);
    await provider.delete!(created.id, recorded);
    assert.strictEqual(ctx.emulator.rotations().length, 2, "the delete ended before the landing");
    const replacement = await createThroughProvider({ target: REDIS, trigger: 2 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.strictEqual(ctx.emulator.rotations().length, 3);
    assert.ok(
      ctx.emulator.isCurrentCredential(replacement.state.token!),
      "a dead token handed out",
    );
  });

  it("a reset that never lands: the re-run resets once the window has passed", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    ctx.emulator.faults = [gateway("/v2/redis/reset-password")];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    const recorded = recordedBy(error);
    assert.strictEqual(ctx.emulator.rotations().length, 1);
    const waitedFrom = Date.parse(recorded.unknownOutcomeAt!);

    const updated = await updateThroughProvider(created.id, recorded, { trigger: 2 });
    assert.strictEqual(ctx.emulator.rotations().length, 2);
    const resent = posts(/reset-password/).at(-1)!;
    assert.ok(
      resent.at >= waitedFrom + 8000,
      "the reset was sent again while the first could still land",
    );
    assert.ok(ctx.emulator.isCurrentCredential(updated.state.token!));
  });

  it("a signing-key roll: the failed run keeps the keys receivers hold; the re-run records the late roll without a second one", async () => {
    const created = await createThroughProvider({
      target: KEYS,
      trigger: 1,
      minRollInterval: "0min",
    });
    const rolls = () => ctx.dataPlaneLog.filter((entry) => /\/v2\/keys\/rotate$/.test(entry.path));
    ctx.emulator.faults = [gateway("/v2/keys/rotate$", 4500)];
    const error = await failureOf(
      updateThroughProvider(created.id, created.state, { trigger: 2, minRollInterval: "0min" }),
    );
    const recorded = recordedBy(error);
    assert.ok(recorded.unknownOutcomeAt);
    assert.strictEqual(recorded.currentSigningKey, created.state.currentSigningKey);
    assert.strictEqual(recorded.trigger, 1, "the trigger change must stay pending");

    const updated = await updateThroughProvider(created.id, recorded, {
      trigger: 2,
      minRollInterval: "0min",
    });
    assert.strictEqual(rolls().length, 1, "a second roll replaced both keys receivers had");
    assertRolledOnceAndLive(created.state, updated.state);
  });

  it("an ACL revoke (resetpass): the re-run waits for the late SETUSER, so it cannot kill the password the re-run hands out", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1, revokeAllOn: 1 });
    // GETUSER and GENTOKEN go through; the SETUSER is answered 524 and lands later.
    ctx.emulator.faults = [gateway("^/data-plane/", 4500, 2)];
    const error = await failureOf(
      updateThroughProvider(created.id, created.state, { trigger: 1, revokeAllOn: 2 }),
    );
    const recorded = recordedBy(error);
    assert.ok(recorded.unknownOutcomeAt);

    const updated = await updateThroughProvider(created.id, recorded, {
      trigger: 1,
      revokeAllOn: 2,
    });
    // Past the moment the first SETUSER lands, whenever the re-run ended.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
    assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 401);
    assert.deepStrictEqual(await aclPasswords(ctx.emulator, "app"), [sha256(updated.state.token!)]);
  });

  describe("a gateway 5xx on every target, its work landing while the run reads", () => {
    // Within the readings that settle an unknown outcome (about two seconds): the run records
    // the landed change as its own, sends nothing a second time and hands out what is live.
    const LANDS_AFTER_MS = 1500;
    const RESET_TARGETS = {
      redis: { path: "/v2/redis/reset-password/", target: REDIS },
      vector: {
        path: "/v2/vector/index/[^/]+/reset-password",
        target: { type: "vector", indexId: FIXTURE_IDS.vector },
      },
      search: {
        path: "/v2/search/[^/]+/reset-password",
        target: { type: "search", indexId: FIXTURE_IDS.search },
      },
      qstash: {
        path: "/v2/qstash/rotate-token/",
        target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
      },
    } as const;

    for (const status of [502, 503, 520, 524]) {
      const lateAnswer = (path: string, after?: number): Fault => ({
        ...gateway(path, LANDS_AFTER_MS, after),
        status,
      });

      for (const [name, { path, target }] of Object.entries(RESET_TARGETS)) {
        it(`${name} reset answered ${status}: one reset, and the token handed out works`, async () => {
          const created = await createThroughProvider({ target, trigger: 1 });
          ctx.emulator.faults = [lateAnswer(path)];
          const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
          const resets = posts(new RegExp(path));
          assert.strictEqual(resets.length, 2, "the reset was sent again");
          assert.strictEqual(resets[1].status, status, "the gateway's answer did not reach it");
          assert.strictEqual(ctx.emulator.rotations(new RegExp(path)).length, 2);
          assert.ok(ctx.emulator.isCurrentCredential(updated.state.token!), "a dead token");
          assert.ok(!ctx.emulator.isCurrentCredential(created.state.token!));
          assert.strictEqual(updated.state.unknownOutcomeAt, undefined);
        });
      }

      it(`ACL user password answered ${status}: one password added, and it works`, async () => {
        const created = await createThroughProvider({ target: APP, trigger: 1 });
        // GETUSER and GENTOKEN go through; the SETUSER is answered with the status.
        ctx.emulator.faults = [lateAnswer("^/data-plane/", 2)];
        const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
        const answered = ctx.dataPlaneLog.filter((entry) => entry.fault === "status");
        assert.deepStrictEqual(
          answered.map((entry) => entry.status),
          [status],
          "the gateway's answer did not reach it",
        );
        assert.strictEqual(await pingStatus(ctx.emulator, updated.state.token!), 200);
        // Overlap kept: the previous password still works, and no third one was added.
        assert.strictEqual(await pingStatus(ctx.emulator, created.state.token!), 200);
        assert.deepStrictEqual(
          new Set(await aclPasswords(ctx.emulator, "app")),
          new Set([sha256(created.state.token!), sha256(updated.state.token!)]),
        );
      });

      it(`signing-key roll answered ${status}: one roll, and the keys handed out are live`, async () => {
        const created = await createThroughProvider({
          target: KEYS,
          trigger: 1,
          minRollInterval: "0min",
        });
        ctx.emulator.faults = [lateAnswer("/v2/keys/rotate$")];
        const updated = await updateThroughProvider(created.id, created.state, {
          trigger: 2,
          minRollInterval: "0min",
        });
        const rolls = ctx.dataPlaneLog.filter((entry) => /\/v2\/keys\/rotate$/.test(entry.path));
        assert.strictEqual(rolls.length, 1, "the roll was sent again");
        assert.strictEqual(rolls[0].status, status, "the gateway's answer did not reach it");
        assertRolledOnceAndLive(created.state, updated.state);
      });
    }
  });
});

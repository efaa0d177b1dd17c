import assert from "assert";
import type { RotationState, RotationTarget } from "../../provider";
import { FIXTURE_IDS } from "../../emulator/state";
import type { UpstashEmulator } from "../../emulator/server";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";

interface TargetCase {
  target: RotationTarget;
  resetPath: RegExp;
  /** The emulator's current credentials for the target, as the provider should report them. */
  current(emulator: UpstashEmulator): { token: string; readOnlyToken: string; password?: string };
  envToken: string;
  envUrl: string;
}

/** Vector and Search indexes report the same credentials under the same names. */
function restIndexCase(kind: "vector" | "search", resetPath: RegExp): TargetCase {
  return {
    target: { type: kind, indexId: FIXTURE_IDS[kind] },
    resetPath,
    current: (e) => {
      const ix = e.data[kind].get(FIXTURE_IDS[kind])!;
      return { token: ix.token, readOnlyToken: ix.read_only_token };
    },
    envToken: `UPSTASH_${kind.toUpperCase()}_REST_TOKEN`,
    envUrl: `UPSTASH_${kind.toUpperCase()}_REST_URL`,
  };
}

const CASES: TargetCase[] = [
  {
    target: { type: "redis", databaseId: FIXTURE_IDS.redis },
    resetPath: /^\/v2\/redis\/reset-password\//,
    current: (e) => {
      const db = e.data.redis.get(FIXTURE_IDS.redis)!;
      return {
        token: db.rest_token,
        readOnlyToken: db.read_only_rest_token,
        password: db.password,
      };
    },
    envToken: "UPSTASH_REDIS_REST_TOKEN",
    envUrl: "UPSTASH_REDIS_REST_URL",
  },
  restIndexCase("vector", /^\/v2\/vector\/index\/.*\/reset-password$/),
  restIndexCase("search", /^\/v2\/search\/.*\/reset-password$/),
  {
    target: { type: "qstash", qstashUserId: FIXTURE_IDS.qstash },
    resetPath: /^\/v2\/qstash\/rotate-token\//,
    current: (e) => {
      const user = e.data.qstash.get(FIXTURE_IDS.qstash)!;
      return { token: user.token, readOnlyToken: user.read_only_token };
    },
    envToken: "QSTASH_TOKEN",
    envUrl: "QSTASH_URL",
  },
];

function assertCurrent(state: RotationState, c: TargetCase, emulator: UpstashEmulator): void {
  const now = c.current(emulator);
  assert.strictEqual(state.token, now.token);
  assert.strictEqual(state.readOnlyToken, now.readOnlyToken);
  assert.strictEqual(state.password, now.password);
  assert.strictEqual(state.env?.[c.envToken], now.token);
  assert.strictEqual(state.env?.[c.envUrl], state.restUrl);
}

for (const c of CASES) {
  describe(`${c.target.type} target through the provider`, () => {
    const ctx = useEmulator();

    it("create rotates exactly once and reports the new credentials", async () => {
      const before = c.current(ctx.emulator);
      const { id, state } = await createThroughProvider({ target: c.target, trigger: "v1" });
      assert.strictEqual(ctx.emulator.rotations(c.resetPath).length, 1);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
      assertCurrent(state, c, ctx.emulator);
      assert.notStrictEqual(state.token, before.token);
      assert.ok(!ctx.emulator.isCurrentCredential(before.token), "old token must be dead");
      assert.strictEqual(state.rotationCount, 1);
      assert.ok(!Number.isNaN(Date.parse(state.rotatedAt)));
      assert.match(id, new RegExp(`^${c.target.type}/`));
      assert.match(state.restUrl ?? "", /^https:\/\/[^/]+\.upstash\.io$/);
    });

    it("an unchanged or reordered trigger makes no API call; a changed one rotates in place", async () => {
      const { id, state } = await createThroughProvider({
        target: c.target,
        trigger: { month: 11, year: 2026 },
      });
      ctx.emulator.log.length = 0;

      const same = await updateThroughProvider(id, state, { trigger: { year: 2026, month: 11 } });
      assert.strictEqual(same.changed, false);
      assert.strictEqual(ctx.emulator.log.length, 0);

      const onDeleteOnly = await updateThroughProvider(id, state, { onDelete: "rotate" });
      assert.strictEqual(onDeleteOnly.changed, true);
      assert.deepStrictEqual(onDeleteOnly.replaces, []);
      assert.strictEqual(onDeleteOnly.state.onDelete, "rotate");
      assert.strictEqual(onDeleteOnly.state.token, state.token);
      assert.strictEqual(ctx.emulator.log.length, 0);

      const bumped = await updateThroughProvider(id, state, { trigger: { year: 2026, month: 12 } });
      assert.strictEqual(bumped.changed, true);
      assert.deepStrictEqual(bumped.replaces, []);
      assert.strictEqual(ctx.emulator.rotations().length, 1);
      assert.strictEqual(bumped.state.rotationCount, 2);
      assert.notStrictEqual(bumped.state.token, state.token);
      assertCurrent(bumped.state, c, ctx.emulator);
    });

    it("read reports no drift when nothing changed and records a reset done elsewhere", async () => {
      const { id, state } = await createThroughProvider({ target: c.target });
      const unchanged = await provider.read!(id, state);
      assert.strictEqual(unchanged.id, id);
      assert.deepStrictEqual(unchanged.props, state);
      assert.strictEqual(ctx.emulator.rotations().length, 1);

      await createThroughProvider({ target: c.target }); // a reset Pulumi's state does not know of
      const drifted = await provider.read!(id, state);
      assert.notStrictEqual(drifted.props?.token, state.token);
      assertCurrent(drifted.props as RotationState, c, ctx.emulator);
      assert.strictEqual(drifted.props?.rotationCount, state.rotationCount);
    });

    it("delete keeps the credentials by default and rotates them with onDelete rotate", async () => {
      const kept = await createThroughProvider({ target: c.target });
      ctx.emulator.log.length = 0;
      await provider.delete!(kept.id, kept.state);
      assert.strictEqual(ctx.emulator.log.length, 0);
      assert.ok(ctx.emulator.isCurrentCredential(kept.state.token!));

      const rotated = await createThroughProvider({ target: c.target, onDelete: "rotate" });
      ctx.emulator.log.length = 0;
      await provider.delete!(rotated.id, rotated.state);
      assert.strictEqual(ctx.emulator.rotations(c.resetPath).length, 1);
      assert.ok(!ctx.emulator.isCurrentCredential(rotated.state.token!));
    });

    it("a changed target is a replacement, an unknown trigger an update", async () => {
      const { id, state } = await createThroughProvider({ target: c.target });
      const other = { ...c.target, type: c.target.type === "redis" ? "vector" : "redis" };
      const replaced = await provider.diff!(id, state, {
        ...state,
        target: other as RotationTarget,
      });
      assert.deepStrictEqual(replaced.replaces, ["target"]);
      const unknown = await provider.diff!(id, state, {
        ...state,
        trigger: { at: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" },
      });
      assert.strictEqual(unknown.changes, true);
      assert.deepStrictEqual(unknown.replaces, []);
    });
  });
}

describe("targets that disappear", () => {
  const ctx = useEmulator();

  it("read reports a deleted database as gone", async () => {
    const { id, state } = await createThroughProvider({
      target: { type: "redis", databaseId: FIXTURE_IDS.redis },
    });
    ctx.emulator.data.redis.delete(FIXTURE_IDS.redis);
    const read = await provider.read!(id, state);
    assert.strictEqual(read.id, "");
  });

  it("delete with onDelete rotate succeeds when the target is already gone", async () => {
    const { id, state } = await createThroughProvider({
      target: { type: "vector", indexId: FIXTURE_IDS.vector },
      onDelete: "rotate",
    });
    ctx.emulator.data.vector.delete(FIXTURE_IDS.vector);
    await provider.delete!(id, state);
  });
});

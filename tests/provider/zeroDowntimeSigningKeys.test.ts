import assert from "assert";
import type { Fault } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import type { RotationState } from "../../provider";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { assertNoSecrets } from "../helpers/secrets";
import { failureOf, recordedBy } from "../helpers/failures";

const KEYS = { type: "qstash-signing-keys" } as const;
const ROLL = /\/v2\/keys\/rotate$/;

/** Creates, then dates the adopted keys' last roll a year back, so the next roll may go. */
async function adoptedLongAgo(inputs: Parameters<typeof createThroughProvider>[0]) {
  const created = await createThroughProvider(inputs);
  created.state.rollObservedAt = "2025-11-01T00:00:00.000Z";
  return created;
}

describe("QStash signing keys", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const user = () => ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!;
  const live = () => ctx.emulator.dataPlane.qstash(user()).signingKeys;
  const rolls = () => ctx.dataPlaneLog.filter((entry) => ROLL.test(entry.path));
  /** A roll done outside Pulumi, as QStash's console or API does it. */
  const rollElsewhere = async () => {
    const response = await fetch(
      `${ctx.emulator.url}/data-plane/qstash.upstash.io/v2/keys/rotate`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${user().token}` },
      },
    );
    assert.strictEqual(response.status, 200);
  };
  /** A roll (trigger 1 → 2) that happened but whose confirmation failed: every later read fails. */
  const unconfirmedRoll = async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    // The reading before the roll goes through; every one after it fails.
    ctx.emulator.faults = [
      { kind: "status", status: 500, method: "GET", path: "/v2/keys$", after: 1, times: 10_000 },
    ];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    ctx.emulator.faults = [];
    return { created, error };
  };
  const expectKeys = (state: RotationState, keys: { current: string; next: string }) => {
    assert.strictEqual(state.currentSigningKey, keys.current);
    assert.strictEqual(state.nextSigningKey, keys.next);
    assert.deepStrictEqual(state.env, {
      QSTASH_CURRENT_SIGNING_KEY: keys.current,
      QSTASH_NEXT_SIGNING_KEY: keys.next,
    });
  };

  it("create adopts the current keys without rolling (receivers keep working); the QStash token is not stored", async () => {
    const before = { ...live() };
    const { id, state } = await createThroughProvider({ target: KEYS });
    assert.strictEqual(id, `qstash-signing-keys/${FIXTURE_IDS.qstash}`);
    expectKeys(state, before);
    assert.deepStrictEqual(live(), before);
    assert.strictEqual(rolls().length, 0);
    assert.strictEqual(ctx.emulator.rotations().length, 0, "the QStash token was rotated");
    assert.strictEqual(state.rotationCount, 0);
    assert.strictEqual(state.rotatedAt, "");
    assert.strictEqual(state.resourceId, FIXTURE_IDS.qstash);
    const stored = JSON.stringify(state);
    assert.ok(!stored.includes(user().token) && !stored.includes(user().read_only_token));
  });

  it("a new resource treats the adopted keys as just rolled: its first roll waits for minRollInterval", async () => {
    const created = await createThroughProvider({ target: KEYS, trigger: 1 });
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /Refusing to roll/);
    const forced = await updateThroughProvider(created.id, created.state, {
      trigger: 2,
      minRollInterval: "0min",
    });
    assert.notStrictEqual(forced.state.currentSigningKey, created.state.currentSigningKey);
  });

  it("keys rolled elsewhere and recorded by refresh count for the guard", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    await rollElsewhere();
    const refreshed = await provider.read!(created.id, created.state);
    const error = await failureOf(
      updateThroughProvider(created.id, refreshed.props as RotationState, { trigger: 2 }),
    );
    assert.match(error.message, /Refusing to roll/);
  });

  it("a trigger change rolls once: the old next key becomes the current one", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    assert.strictEqual(rolls().length, 1);
    assert.strictEqual(updated.state.currentSigningKey, created.state.nextSigningKey);
    expectKeys(updated.state, live());
    assert.strictEqual(updated.state.rotationCount, 1);
    assert.ok(Date.parse(updated.state.rotatedAt) > 0);
  });

  it("a second roll sooner than minRollInterval fails, says why and how to force it, and changes nothing", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    const first = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    const keys = { ...live() };
    const error = await failureOf(updateThroughProvider(created.id, first.state, { trigger: 3 }));
    assert.match(error.message, /less than minRollInterval \(24h\) ago/);
    assert.match(error.message, /reject every message/);
    assert.match(error.message, /minRollInterval to "0min"/);
    assert.match(error.message, /Nothing was changed/);
    assert.deepStrictEqual(live(), keys);
    assert.strictEqual(rolls().length, 1);
    assertNoSecrets(error, [keys.current, keys.next, user().token]);

    // Forced for this run.
    const forced = await updateThroughProvider(created.id, first.state, {
      trigger: 3,
      minRollInterval: "0min",
    });
    assert.strictEqual(rolls().length, 2);
    assert.strictEqual(forced.state.currentSigningKey, keys.next);
  });

  it("a roll after minRollInterval has passed goes through", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    const first = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    const aged = { ...first.state, rotatedAt: new Date(Date.now() - 25 * 3_600_000).toISOString() };
    const second = await updateThroughProvider(created.id, aged, { trigger: 3 });
    assert.strictEqual(rolls().length, 2);
    const short = { ...second.state, rotatedAt: new Date(Date.now() - 10 * 60_000).toISOString() };
    await updateThroughProvider(created.id, short, { trigger: 4, minRollInterval: "5min" });
    assert.strictEqual(rolls().length, 3);
  });

  /** A gateway answers the roll with `status` while QStash carries it out `landsAfterMs` later. */
  const gatewayRoll = (status: number, landsAfterMs: number): Fault => ({
    kind: "status",
    status,
    landsAfterMs,
    method: "POST",
    path: "/v2/keys/rotate$",
    times: 1,
  });

  for (const { name, fault } of [
    {
      name: "a roll whose answer is lost is settled by reading the keys, not sent again",
      fault: {
        kind: "drop",
        afterWork: true,
        method: "POST",
        path: "/v2/keys/rotate$",
        times: 1,
      } as Fault,
    },
    {
      name: "a roll answered 503 by a gateway that lands 1.5 s later is recorded once: the handed-out current still verifies",
      fault: gatewayRoll(503, 1500),
    },
  ]) {
    it(name, async () => {
      const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
      ctx.emulator.faults = [fault];
      const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
      assert.strictEqual(rolls().length, 1, "the roll was sent again");
      assert.strictEqual(updated.state.currentSigningKey, created.state.nextSigningKey);
      expectKeys(updated.state, live());
    });
  }

  it("a roll answered 520 that has not landed is not sent again; the next up, once it landed, records it without a second roll", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    ctx.emulator.faults = [gatewayRoll(520, 3500)];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /not sent again/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.strictEqual(rolls().length, 1);
    const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    assert.strictEqual(rolls().length, 1, "a second roll replaced both keys receivers had");
    assert.strictEqual(updated.state.currentSigningKey, created.state.nextSigningKey);
    expectKeys(updated.state, live());
  });

  it("a roll that got no answer and did not happen is not re-sent blindly; the next up rolls once", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    ctx.emulator.faults = [{ kind: "drop", method: "POST", path: "/v2/keys/rotate$", times: 1 }];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /not sent again/);
    assert.deepStrictEqual(
      { current: live().current, next: live().next },
      { current: created.state.currentSigningKey, next: created.state.nextSigningKey },
    );
    const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    assert.strictEqual(rolls().length, 2, "one lost send and one roll");
    assert.strictEqual(updated.state.currentSigningKey, created.state.nextSigningKey);
  });

  it("after a roll whose confirmation failed, a new trigger first hands out the live keys without a second roll; it rolls at a later up, under the guard", async () => {
    const { created, error } = await unconfirmedRoll();
    assert.match(error.message, /No keys are handed out/);
    const recorded = recordedBy(error);
    assert.strictEqual(recorded.currentSigningKey, undefined);
    assert.strictEqual(rolls().length, 1);
    const rolledOnce = { ...live() };

    // Receivers never got that roll's keys: rolling again now would break them all.
    const handedOut = await updateThroughProvider(created.id, recorded, {
      trigger: 3,
      minRollInterval: "0min",
    });
    assert.strictEqual(rolls().length, 1, "rolled on top of a roll receivers never got");
    expectKeys(handedOut.state, rolledOnce);
    assert.strictEqual(handedOut.state.trigger, 2, "the new trigger was taken as done");
    const pending = await provider.diff!(created.id, handedOut.state, {
      ...handedOut.state,
      trigger: 3,
    });
    assert.strictEqual(pending.changes, true);

    // The next up rolls once the guard allows it, counted from the hand-out.
    const guarded = await failureOf(
      updateThroughProvider(created.id, handedOut.state, { trigger: 3, minRollInterval: "24h" }),
    );
    assert.match(guarded.message, /Refusing to roll/);
    const rolled = await updateThroughProvider(created.id, handedOut.state, {
      trigger: 3,
      minRollInterval: "0min",
    });
    assert.strictEqual(rolls().length, 2);
    assert.strictEqual(rolled.state.currentSigningKey, rolledOnce.next);
    expectKeys(rolled.state, live());
  });

  it("after a roll whose confirmation failed, the same trigger records the live keys without a roll", async () => {
    const { created, error } = await unconfirmedRoll();
    // Even when the unconfirmed roll is long past, receivers get its keys only now.
    const recorded = { ...recordedBy(error), rotatedAt: "2025-11-01T00:00:00.000Z" };
    const settled = await updateThroughProvider(created.id, recorded, { trigger: 2 });
    assert.strictEqual(rolls().length, 1);
    expectKeys(settled.state, live());
    assert.strictEqual(settled.state.trigger, 2);
    const guarded = await failureOf(
      updateThroughProvider(created.id, settled.state, { trigger: 3 }),
    );
    assert.match(guarded.message, /Refusing to roll/);
    assert.strictEqual(rolls().length, 1);
  });

  it("one roll elsewhere since the keys were recorded counts as this trigger's roll: no second roll", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    await rollElsewhere();
    const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
    assert.strictEqual(rolls().length, 1, "rolled a second time");
    expectKeys(updated.state, live());
  });

  it("keys changed by two rolls elsewhere: the roll is refused until the live keys are recorded", async () => {
    const created = await adoptedLongAgo({ target: KEYS, trigger: 1 });
    await rollElsewhere();
    await rollElsewhere();
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(error.message, /more than one roll/);
    assert.match(error.message, /pulumi refresh/);
    assert.strictEqual(rolls().length, 2);

    const refreshed = await provider.read!(created.id, created.state);
    expectKeys(refreshed.props!, live());
    assert.strictEqual(refreshed.props!.rotationCount, 0);
    // The recorded rolls count for the guard: receivers may not have those keys yet.
    const guarded = await failureOf(
      updateThroughProvider(created.id, refreshed.props!, { trigger: 2 }),
    );
    assert.match(guarded.message, /Refusing to roll/);
    await updateThroughProvider(created.id, refreshed.props!, {
      trigger: 2,
      minRollInterval: "0min",
    });
    assert.strictEqual(rolls().length, 3);
  });

  it("refresh with nothing changed reports the state as it was; a deleted user drops the resource", async () => {
    const created = await createThroughProvider({ target: KEYS });
    assert.deepStrictEqual((await provider.read!(created.id, created.state)).props, created.state);
    ctx.emulator.data.qstash.delete(FIXTURE_IDS.qstash);
    assert.strictEqual((await provider.read!(created.id, created.state)).id, "");
  });

  it("naming the resolved user later is an update without a roll; another user replaces", async () => {
    const created = await createThroughProvider({ target: KEYS });
    const named = await updateThroughProvider(created.id, created.state, {
      target: { ...KEYS, qstashUserId: FIXTURE_IDS.qstash },
    });
    assert.deepStrictEqual(named.replaces, []);
    assert.strictEqual(rolls().length, 0);
    const other = await provider.diff!(created.id, created.state, {
      ...created.state,
      target: { ...KEYS, qstashUserId: "another" },
    });
    assert.deepStrictEqual(other.replaces, ["target"]);
  });

  it("check refuses onDelete rotate and revokeAllOn for signing keys, and minRollInterval elsewhere", async () => {
    const failures = async (news: Record<string, unknown>) =>
      (await provider.check!({} as never, news as never)).failures ?? [];
    const rotate = await failures({ target: KEYS, onDelete: "rotate" });
    assert.deepStrictEqual(
      rotate.map((f) => f.property),
      ["onDelete"],
    );
    assert.match(rotate[0].reason, /nothing to revoke/);
    const revoke = await failures({ target: KEYS, revokeAllOn: "now" });
    assert.deepStrictEqual(
      revoke.map((f) => f.property),
      ["revokeAllOn"],
    );
    const elsewhere = await failures({
      target: { type: "redis", databaseId: "db" },
      minRollInterval: "1h",
    });
    assert.deepStrictEqual(
      elsewhere.map((f) => f.property),
      ["minRollInterval"],
    );
    const bad = await failures({ target: KEYS, minRollInterval: "6m" });
    assert.deepStrictEqual(
      bad.map((f) => f.property),
      ["minRollInterval"],
    );
    assert.ok(!bad[0].reason.includes('"6m"') || /bare "m"/.test(bad[0].reason));
  });

  it("CredentialRotation.get reads the keys by id without rolling", async () => {
    const read = await provider.read!(
      `qstash-signing-keys/${FIXTURE_IDS.qstash}`,
      undefined as never,
    );
    expectKeys(read.props!, live());
    assert.strictEqual(rolls().length, 0);
  });
});

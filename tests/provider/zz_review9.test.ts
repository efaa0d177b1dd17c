import assert from "assert";
import { FIXTURE_IDS } from "../../emulator/state";
import type { RotationState } from "../../provider";
import { aclPasswords, pingStatus, redisRest, sha256 } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";

const APP = { type: "redis", databaseId: FIXTURE_IDS.redis, user: "app" } as const;
const KEYS = { type: "qstash-signing-keys" } as const;
const ROLL = /\/v2\/keys\/rotate$/;

async function failureOf(action: Promise<unknown>): Promise<Error> {
  try {
    await action;
  } catch (error) {
    return error as Error;
  }
  assert.fail("expected the operation to fail");
}

function recordedBy(error: unknown): RotationState {
  const properties = (error as { properties?: Record<string, unknown> }).properties;
  assert.ok(properties, `not a partial failure: ${String(error)}`);
  const unwrap = (value: unknown): unknown =>
    value && typeof value === "object" && "value" in value
      ? (value as { value: unknown }).value
      : value;
  return Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key, unwrap(value)]),
  ) as unknown as RotationState;
}

describe("review 9", function () {
  this.timeout(120_000);
  const ctx = useEmulator();
  const db = () => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
  const quser = () => ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!;
  const live = () => ctx.emulator.dataPlane.qstash(quser()).signingKeys;
  const rolls = () => ctx.dataPlaneLog.filter((entry) => ROLL.test(entry.path));

  it("R1 signing keys: lost roll answer + refresh, then up: one trigger change rolls twice", async () => {
    const created = await createThroughProvider({ target: KEYS, trigger: 1 });
    const aged = {
      ...created.state,
      rotatedAt: new Date(Date.now() - 25 * 3_600_000).toISOString(),
    };
    ctx.emulator.faults = [
      { kind: "drop", afterWork: true, method: "POST", path: "/v2/keys/rotate$", times: 1 },
      { kind: "status", status: 400, method: "GET", path: "/v2/keys$", after: 1, times: 50 },
    ];
    const error = await failureOf(updateThroughProvider(created.id, aged, { trigger: 2 }));
    console.log("   R1 error:", error.message);
    assert.strictEqual(
      (error as { properties?: unknown }).properties,
      undefined,
      "plain failure: engine keeps old state",
    );
    ctx.emulator.faults = [];
    assert.strictEqual(rolls().length, 1);
    const refreshed = (await provider.read!(created.id, aged)).props as RotationState;
    const after = await updateThroughProvider(created.id, refreshed, { trigger: 2 });
    console.log("   R1 rolls:", rolls().length, "changed:", after.changed);
    const k = live();
    console.log(
      "   R1 original pair still valid?",
      [created.state.currentSigningKey, created.state.nextSigningKey].some(
        (x) => x === k.current || x === k.next,
      ),
    );
    assert.strictEqual(rolls().length, 1, "one trigger change rolled twice");
  });

  it("R1b signing keys: a replacement (new resource on same user) rolls immediately after the old one's roll: guard bypassed", async () => {
    const a = await createThroughProvider({ target: KEYS, trigger: 1 });
    const aged = { ...a.state, rotatedAt: new Date(Date.now() - 25 * 3_600_000).toISOString() };
    await updateThroughProvider(a.id, aged, { trigger: 2 });
    assert.strictEqual(rolls().length, 1);
    const b = await createThroughProvider({ target: KEYS, trigger: 2 });
    const err = await failureOf(updateThroughProvider(b.id, b.state, { trigger: 3 })).catch(
      (e) => e,
    );
    console.log("   R1b rolls:", rolls().length, String(err).slice(0, 80));
    assert.strictEqual(rolls().length, 1, "second roll within seconds, no guard");
  });

  it("R1c signing keys: roll elsewhere + refresh, then trigger: two rolls in seconds", async () => {
    const created = await createThroughProvider({ target: KEYS, trigger: 1 });
    const aged = {
      ...created.state,
      rotatedAt: new Date(Date.now() - 25 * 3_600_000).toISOString(),
    };
    const r = await fetch(`${ctx.emulator.url}/data-plane/qstash.upstash.io/v2/keys/rotate`, {
      method: "POST",
      headers: { Authorization: `Bearer ${quser().token}` },
    });
    assert.strictEqual(r.status, 200);
    const refreshed = (await provider.read!(created.id, aged)).props as RotationState;
    await updateThroughProvider(created.id, refreshed, { trigger: 2 });
    console.log("   R1c provider rolls:", rolls().length - 1);
    assert.strictEqual(rolls().length, 1, "provider rolled right after an outside roll");
  });

  it("R2 reset target: verification rejects the new token; refresh records it and the next up hands it out", async () => {
    const target = { type: "vector", indexId: FIXTURE_IDS.vector } as const;
    const created = await createThroughProvider({ target, trigger: 1 });
    ctx.emulator.setDataPlaneSwitch("vector", FIXTURE_IDS.vector, { freshTokenRejections: 100000 });
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    const recorded = recordedBy(error);
    assert.strictEqual(recorded.token, undefined);
    const refreshed = (await provider.read!(created.id, recorded)).props as RotationState;
    console.log(
      "   R2 refreshed token set:",
      refreshed.token !== undefined,
      "pending:",
      refreshed.pendingRotation,
    );
    const next = await updateThroughProvider(created.id, refreshed, { trigger: 2 });
    const idx = ctx.emulator.data.vector.get(FIXTURE_IDS.vector)!;
    const res = await fetch(
      `${ctx.emulator.url}/data-plane/${(idx as unknown as { endpoint: string }).endpoint}/info`,
      { headers: { Authorization: `Bearer ${next.state.token}` } },
    );
    console.log("   R2 changed:", next.changed, "handed-out token /info status:", res.status);
    assert.strictEqual(
      next.state.token,
      undefined,
      "a token the data plane rejects is handed out after refresh",
    );
  });

  it("R3 data-plane error body: admin token straddling the 200-char cut leaks partially; unknown token-like secrets leak in full", async () => {
    const pad = "x ".repeat(92) + "tok=";
    const body = JSON.stringify({ error: pad + db().rest_token + " password " + db().password });
    ctx.emulator.faults = [
      {
        kind: "status",
        status: 400,
        method: "POST",
        path: "^/data-plane/",
        times: 1,
        body,
        contentType: "application/json",
      },
    ];
    const error = await failureOf(createThroughProvider({ target: APP }));
    console.log("   R3:", error.message.slice(0, 420));
    const leaked = error.message.includes(db().rest_token.slice(0, 8));
    ctx.emulator.faults = [
      {
        kind: "status",
        status: 400,
        method: "POST",
        path: "^/data-plane/",
        times: 1,
        body: JSON.stringify({ error: "ERR bad " + db().password }),
        contentType: "application/json",
      },
    ];
    const error2 = await failureOf(createThroughProvider({ target: APP }));
    console.log("   R3b:", error2.message.slice(0, 300));
    assert.ok(!leaked, "prefix of the admin REST token in the error");
    assert.ok(!error2.message.includes(db().password), "database password echoed in full");
  });

  it("R4 removing revokeAllOn from config revokes every password again", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1 });
    const revoked = await updateThroughProvider(created.id, created.state, {
      revokeAllOn: "leak-1",
    });
    const cleaned = await updateThroughProvider(created.id, revoked.state, {
      revokeAllOn: undefined,
    });
    console.log(
      "   R4 changed:",
      cleaned.changed,
      "old token ping:",
      await pingStatus(ctx.emulator, revoked.state.token!),
    );
    assert.strictEqual(
      await pingStatus(ctx.emulator, revoked.state.token!),
      200,
      "config cleanup killed the live credential",
    );
  });

  it("R5 rules + trigger change whose new password is rejected: 'nothing changed' but the rules did change for the old password", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1 });
    assert.strictEqual(
      (await redisRest(ctx.emulator, created.state.token!, ["SET", "k", "v"])).status,
      200,
    );
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, { freshTokenRejections: 100000 });
    const error = await failureOf(
      updateThroughProvider(created.id, created.state, {
        trigger: 2,
        target: { ...APP, rules: ["~other:*", "+get"] },
      }),
    );
    ctx.emulator.setDataPlaneSwitch("redis", FIXTURE_IDS.redis, {});
    console.log("   R5:", error.message.slice(0, 160));
    const set = await redisRest(ctx.emulator, created.state.token!, ["SET", "k", "v"]);
    console.log("   R5 old token SET:", set.status, set.error);
    assert.strictEqual(
      set.status,
      200,
      "failed 'nothing changed' update changed the consumers' permissions",
    );
  });

  it("R6 refresh while Developer API says db_acl_enabled false wipes the digests; a later destroy (rotate) silently revokes nothing", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1, onDelete: "rotate" });
    db().db_acl_enabled = "false";
    const refreshed = (await provider.read!(created.id, created.state)).props as RotationState;
    console.log(
      "   R6 refreshed aclPasswords:",
      refreshed.aclPasswords,
      "token:",
      refreshed.token !== undefined,
    );
    db().db_acl_enabled = "true";
    await provider.delete!(created.id, refreshed);
    const status = await pingStatus(ctx.emulator, created.state.token!);
    console.log(
      "   R6 after delete(rotate): ping",
      status,
      "passwords",
      await aclPasswords(ctx.emulator, "app"),
    );
    assert.strictEqual(
      status,
      401,
      "destroy with onDelete rotate succeeded yet the password still works",
    );
  });

  it("R7 two resources on the same user: B's rotations never remove A's; A's refresh-less state ok (sanity)", async () => {
    const a = await createThroughProvider({ target: APP, trigger: 1, onDelete: "rotate" });
    const b = await createThroughProvider({
      target: { ...APP, rules: ["~b:*", "+get"] },
      trigger: 1,
    });
    const set = await redisRest(ctx.emulator, a.state.token!, ["SET", "k", "v"]);
    console.log("   R7 A's token after B create SET:", set.status, set.error);
    assert.strictEqual(set.status, 200, "creating B silently changed A's consumers' permissions");
    void b;
    void sha256;
  });
});

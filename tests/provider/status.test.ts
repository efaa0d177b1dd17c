import assert from "assert";
import { FIXTURE_IDS } from "../../emulator/state";
import type { RotationState } from "../../provider";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import { asAdmin } from "../helpers/dataPlane";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { failureOf, recordedBy } from "../helpers/failures";

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;
const APP = { ...REDIS, user: "app" } as const;
const KEYS = { type: "qstash-signing-keys" } as const;

/**
 * The `status` output is what `pulumi refresh --diff` and `pulumi preview --diff` show a
 * user of the dynamic provider, which cannot log to the engine.
 */
describe("the status output", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const refresh = async (id: string, state: RotationState) =>
    (await provider.read!(id, state)).props as RotationState;

  it("a reset outside Pulumi: refresh says so and what to do, a second refresh changes nothing, the next up passes the live credentials on without a reset", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    assert.match(
      created.state.status!,
      /^Credentials current and proven; this resource.s last rotation was at \S+ \(rotation 1\)\.$/,
    );
    assert.deepStrictEqual(await refresh(created.id, created.state), created.state);

    await resetOutsidePulumi(ctx.emulator, FIXTURE_IDS.redis);
    const refreshed = await refresh(created.id, created.state);
    assert.match(refreshed.status!, /changed outside Pulumi.*Run `pulumi up` to pass them on/);
    assert.deepStrictEqual(
      await refresh(created.id, refreshed),
      refreshed,
      "a second refresh showed a change",
    );

    const diff = await provider.diff!(created.id, refreshed, {
      ...refreshed,
      status: undefined,
    } as never);
    assert.strictEqual(diff.changes, true, "nothing would pass the live credentials on");
    const resets = ctx.emulator.rotations().length;
    const updated = await updateThroughProvider(created.id, refreshed, {});
    assert.strictEqual(ctx.emulator.rotations().length, resets);
    assert.strictEqual(updated.state.changedOutsideAt, undefined);
    assert.match(updated.state.status!, /^Credentials current/);
    assert.strictEqual(updated.state.token, refreshed.token);
  });

  it("an ACL password removed outside Pulumi: refresh says none is handed out and the next up issues one", async () => {
    const created = await createThroughProvider({ target: APP, trigger: 1 });
    await asAdmin(ctx.emulator, ["ACL", "SETUSER", "app", `<${created.state.token}`]);
    const refreshed = await refresh(created.id, created.state);
    assert.match(refreshed.status!, /no longer works.*The next `pulumi up` issues a new one/);
    const healed = await updateThroughProvider(created.id, refreshed, {});
    assert.match(healed.state.status!, /^Credentials current/);
  });

  it("signing keys: adopted keys say when they were adopted (rotatedAt stays empty); a roll says when it rolled", async () => {
    const created = await createThroughProvider({ target: KEYS, trigger: 1 });
    assert.strictEqual(created.state.rotatedAt, "");
    assert.match(
      created.state.status!,
      new RegExp(`^Keys adopted as they were at ${created.state.rollObservedAt}`),
    );
    const rolled = await updateThroughProvider(created.id, created.state, {
      trigger: 2,
      minRollInterval: "0min",
    });
    assert.match(
      rolled.state.status!,
      /^Keys current: rolled by this resource at \S+ \(roll 1\)\.$/,
    );
  });

  it("a partial failure's recorded state says what the next up does", async () => {
    const created = await createThroughProvider({ target: REDIS, trigger: 1 });
    ctx.emulator.faults = [{ kind: "status", status: 503, method: "POST", times: 1 }];
    const error = await failureOf(updateThroughProvider(created.id, created.state, { trigger: 2 }));
    assert.match(
      recordedBy(error).status!,
      /got no clear answer and may still land; no credential that may be dead is handed out\. The next `pulumi up` waits until/,
    );
  });
});

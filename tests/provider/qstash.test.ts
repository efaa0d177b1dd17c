import assert from "assert";
import { addQStashUser, FIXTURE_IDS } from "../../emulator/state";
import { UpstashApiError } from "../../provider";
import { createThroughProvider, provider, useEmulator } from "../helpers/emulator";

describe("QStash user resolution and the two QStash APIs", () => {
  const ctx = useEmulator();

  it("without an id, rotates the account's only user through the v2 API", async () => {
    const { state } = await createThroughProvider({ target: { type: "qstash" } });
    assert.deepStrictEqual(
      ctx.emulator.log.map((e) => `${e.method} ${e.path}`),
      [
        "GET /v2/qstash/users",
        // The reading that tells a lost answer from a reset that never arrived.
        `GET /v2/qstash/user/${FIXTURE_IDS.qstash}`,
        `POST /v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`,
      ],
    );
    assert.strictEqual(state.resourceId, FIXTURE_IDS.qstash);
    assert.strictEqual(state.qstashApi, "v2");
    assert.strictEqual(state.token, ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token);
  });

  it("with several users, fails naming them and rotates nothing", async () => {
    const second = addQStashUser(ctx.emulator.data);
    await assert.rejects(
      createThroughProvider({ target: { type: "qstash" } }),
      (error: unknown) =>
        error instanceof UpstashApiError &&
        error.message.includes(FIXTURE_IDS.qstash) &&
        error.message.includes(second.id) &&
        /qstashUserId/.test(error.message),
    );
    assert.strictEqual(ctx.emulator.rotations().length, 0);
  });

  it("falls back to the account-level API where the users list does not exist", async () => {
    ctx.emulator.legacyQStashOnly = true;
    const { id, state } = await createThroughProvider({ target: { type: "qstash" } });
    assert.deepStrictEqual(
      ctx.emulator.log.map((e) => `${e.method} ${e.path} ${e.status}`),
      [
        "GET /v2/qstash/users 404",
        // Proof that the v2 API is absent: it does not serve the user the old API reports.
        "GET /qstash/user 200",
        `GET /v2/qstash/user/${FIXTURE_IDS.qstash} 404`,
        "GET /qstash/user 200",
        "POST /qstash/user/rotatetoken 200",
      ],
    );
    assert.strictEqual(state.qstashApi, "legacy");
    assert.strictEqual(
      state.env?.QSTASH_TOKEN,
      ctx.emulator.data.qstash.get(FIXTURE_IDS.qstash)!.token,
    );

    // Later operations go straight to the API that worked, without listing again.
    ctx.emulator.log.length = 0;
    const read = await provider.read!(id, state);
    assert.deepStrictEqual(read.props, state);
    const updated = await provider.update!(id, state, { ...state, trigger: "next" });
    assert.deepStrictEqual(
      ctx.emulator.log.map((e) => `${e.method} ${e.path}`),
      ["GET /qstash/user", "GET /qstash/user", "POST /qstash/user/rotatetoken"],
    );
    assert.notStrictEqual(updated.outs?.token, state.token);
  });

  it("keeps rotating the user it resolved on create even after a second user appears", async () => {
    const { id, state } = await createThroughProvider({ target: { type: "qstash" } });
    addQStashUser(ctx.emulator.data);
    ctx.emulator.log.length = 0;
    await provider.update!(id, state, { ...state, trigger: "again" });
    assert.deepStrictEqual(
      ctx.emulator.log.map((e) => e.path),
      [`/v2/qstash/user/${FIXTURE_IDS.qstash}`, `/v2/qstash/rotate-token/${FIXTURE_IDS.qstash}`],
    );
  });
});

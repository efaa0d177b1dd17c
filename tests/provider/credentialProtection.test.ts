import assert from "assert";
import type { CredentialProtection } from "../../emulator/state";
import { FIXTURE_IDS } from "../../emulator/state";
import { withNotices } from "../../provider/notices";
import { resetOutsidePulumi } from "../helpers/apiCalls";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { failureOf, recordedBy } from "../helpers/failures";
import { assertNoSecrets } from "../helpers/secrets";

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;

/** What an operation told the user, beside its result. */
async function noticed<T>(operation: () => Promise<T>): Promise<{ result: T; notices: string[] }> {
  const notices: string[] = [];
  const result = await withNotices((_severity, message) => {
    notices.push(message);
  }, operation);
  return { result, notices };
}

/**
 * Upstash's Credential Protection: the Developer API shows a database's
 * credentials once, in the reset's answer; its `GET` leaves them out or empty.
 */
describe("a database with Credential Protection", function () {
  this.timeout(60_000);
  const ctx = useEmulator();
  const live = () => ctx.emulator.data.redis.get(FIXTURE_IDS.redis)!;
  const resets = () => ctx.emulator.rotations().length;

  for (const protection of ["omit", "empty"] as CredentialProtection[]) {
    describe(`credentials ${protection === "omit" ? "left out of" : "empty in"} its GET`, () => {
      beforeEach(() => ctx.emulator.data.credentialProtection.set(FIXTURE_IDS.redis, protection));

      it("create hands out the credentials of the reset's answer, proven", async () => {
        const created = await createThroughProvider({ target: REDIS, trigger: 1 });
        assert.strictEqual(resets(), 1);
        assert.strictEqual(created.state.token, live().rest_token);
        assert.strictEqual(created.state.password, live().password);
        assert.strictEqual(created.state.readOnlyToken, live().read_only_rest_token);
        assert.ok(created.state.redisUrl?.includes(encodeURIComponent(live().password)));
      });

      it("refresh keeps the recorded credentials; a trigger change resets once and hands out the new ones", async () => {
        const created = await createThroughProvider({ target: REDIS, trigger: 1 });
        const refreshed = await provider.read!(created.id, created.state);
        assert.deepStrictEqual(refreshed.props, created.state);
        const updated = await updateThroughProvider(created.id, created.state, { trigger: 2 });
        assert.strictEqual(resets(), 2);
        assert.strictEqual(updated.state.token, live().rest_token);
        assert.ok(!ctx.emulator.isCurrentCredential(created.state.token!));
      });
    });
  }

  describe("(left out)", () => {
    beforeEach(() => ctx.emulator.data.credentialProtection.set(FIXTURE_IDS.redis, "omit"));

    it("a reset outside Pulumi: refresh says the credentials died and drops them; the next up resets once", async () => {
      const created = await createThroughProvider({ target: REDIS, trigger: 1 });
      await resetOutsidePulumi(ctx.emulator, FIXTURE_IDS.redis);
      const { result: refreshed, notices } = await noticed(() =>
        provider.read!(created.id, created.state),
      );
      assert.strictEqual(refreshed.props!.token, undefined, "a dead token kept in the outputs");
      assert.strictEqual(refreshed.props!.password, undefined);
      assert.match(notices.join("\n"), /no longer work.*Credential Protection.*pulumi up/s);
      const before = resets();
      const healed = await updateThroughProvider(created.id, refreshed.props!, { trigger: 1 });
      assert.strictEqual(resets() - before, 1);
      assert.strictEqual(healed.state.token, live().rest_token);
    });

    it("a reset whose answer is lost cannot be read back: a partial failure that hands out nothing; the next up resets once more", async () => {
      const created = await createThroughProvider({ target: REDIS, trigger: 1 });
      ctx.emulator.faults = [{ kind: "drop", afterWork: true, method: "POST", times: 1 }];
      const error = await failureOf(
        updateThroughProvider(created.id, created.state, { trigger: 2 }),
      );
      ctx.emulator.faults = [];
      assert.strictEqual(recordedBy(error).token, undefined);
      assert.strictEqual(resets(), 2);
      assertNoSecrets(error, [created.state.token!, live().rest_token]);
      const { result: healed, notices } = await noticed(() =>
        updateThroughProvider(created.id, recordedBy(error), { trigger: 2 }),
      );
      assert.strictEqual(resets(), 3);
      assert.match(notices.join("\n"), /Credential Protection/);
      assert.strictEqual(healed.state.token, live().rest_token);
      assert.strictEqual(healed.state.pendingRotation, undefined);
    });

    it("delete with onDelete rotate revokes the credentials it handed out", async () => {
      const created = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      await provider.delete!(created.id, created.state);
      assert.strictEqual(resets(), 2);
      assert.ok(!ctx.emulator.isCurrentCredential(created.state.token!));
    });

    it("delete of a replaced resource (same database) leaves the replacement's credentials alive", async () => {
      const old = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      const replacement = await createThroughProvider({ target: REDIS, onDelete: "rotate" });
      await provider.delete!(old.id, old.state);
      assert.strictEqual(resets(), 2);
      assert.ok(ctx.emulator.isCurrentCredential(replacement.state.token!));
    });

    it("an ACL user cannot be rotated: the error names Credential Protection and what to do, nothing is sent", async () => {
      const error = await failureOf(
        createThroughProvider({ target: { ...REDIS, user: "app" }, trigger: 1 }),
      );
      assert.match(error.message, /Credential Protection/);
      assert.match(error.message, /remove target\.user/);
      assert.deepStrictEqual(
        ctx.dataPlaneLog.filter((entry) => entry.method === "POST"),
        [],
        "an ACL command was sent",
      );
    });

    it("an import says why it cannot read the credentials", async () => {
      const error = await failureOf(
        provider.read!(`redis/${FIXTURE_IDS.redis}`, undefined as never),
      );
      assert.match(error.message, /Credential Protection.*Declare the resource instead/);
      assert.strictEqual(resets(), 0);
    });
  });
});

import assert from "assert";
import { startEmulator, type Fault, type UpstashEmulator } from "../../emulator/server";
import { addRedis, DEFAULT_ACCOUNT } from "../../emulator/state";
import { UpstashClient } from "../../provider/http/client";
import { forgetSharedRequestGate } from "../../provider/http/concurrency";

describe("request gate: a stray 429", () => {
  let emulator: UpstashEmulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator.close();
  });
  afterEach(() => forgetSharedRequestGate());

  /** 40 concurrent reads through the shared gate; returns the wall time. */
  async function fortyReads(faults: Fault[]): Promise<number> {
    emulator.reset();
    forgetSharedRequestGate();
    const ids = Array.from({ length: 40 }, () => addRedis(emulator.data).database_id);
    emulator.faults = faults;
    const client = new UpstashClient({
      baseUrl: emulator.url,
      credentials: { email: DEFAULT_ACCOUNT.email, apiKey: DEFAULT_ACCOUNT.apiKey },
      retry: { baseDelayMs: 50 },
    });
    const started = Date.now();
    await Promise.all(
      ids.map((id) =>
        client.call({
          method: "GET",
          path: `/v2/redis/database/${id}`,
          operation: "read Redis database",
          targetId: id,
          parse: (body) => body,
        }),
      ),
    );
    return Date.now() - started;
  }

  it("one 429 after one OK, without a rate limit, does not pace the rest of the run", async () => {
    const latency: Fault = { kind: "latency", ms: 20 };
    const clean = await fortyReads([latency]);
    const stray = await fortyReads([latency, { kind: "status", status: 429, times: 1, after: 1 }]);
    assert.strictEqual(emulator.log.filter((entry) => entry.status === 429).length, 1);
    assert.ok(
      stray <= clean + 400,
      `40 reads took ${stray} ms after a stray 429 and ${clean} ms without`,
    );
  });
});

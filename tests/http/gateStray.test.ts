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

  /** 40 reads through the shared gate, all at once or one after another; returns the wall time. */
  async function fortyReads(
    faults: Fault[],
    options: { maxConcurrency?: number; sequential?: boolean } = {},
  ): Promise<number> {
    emulator.reset();
    forgetSharedRequestGate();
    const ids = Array.from({ length: 40 }, () => addRedis(emulator.data).database_id);
    emulator.faults = faults;
    const client = new UpstashClient({
      baseUrl: emulator.url,
      credentials: { email: DEFAULT_ACCOUNT.email, apiKey: DEFAULT_ACCOUNT.apiKey },
      retry: { baseDelayMs: 50 },
      maxConcurrency: options.maxConcurrency,
    });
    const read = (id: string) =>
      client.call({
        method: "GET",
        path: `/v2/redis/database/${id}`,
        operation: "read Redis database",
        targetId: id,
        parse: (body) => body,
      });
    const started = Date.now();
    if (options.sequential) {
      for (const id of ids) await read(id);
    } else {
      await Promise.all(ids.map(read));
    }
    return Date.now() - started;
  }

  const latency: Fault = { kind: "latency", ms: 20 };
  const cases: { maxConcurrency: number; sequential?: boolean }[] = [
    { maxConcurrency: 4 },
    { maxConcurrency: 1 },
    { maxConcurrency: 1, sequential: true },
  ];
  for (const options of cases) {
    const how = options.sequential
      ? "one read after another"
      : `40 reads at once, ${options.maxConcurrency} in flight`;
    for (const after of [1, 5, 20]) {
      it(`one 429 after ${after} OK answers, without a rate limit, does not pace the run (${how})`, async () => {
        const clean = await fortyReads([latency], options);
        const stray = await fortyReads(
          [latency, { kind: "status", status: 429, times: 1, after }],
          options,
        );
        assert.strictEqual(emulator.log.filter((entry) => entry.status === 429).length, 1);
        // The throttled read waits its own backoff (about 100 ms); nothing else should.
        assert.ok(
          stray <= clean + 300,
          `40 reads took ${stray} ms after a stray 429 and ${clean} ms without`,
        );
      });
    }
  }
});

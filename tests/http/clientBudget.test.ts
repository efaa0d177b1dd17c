import assert from "assert";
import { createServer, type Server } from "http";
import type { AddressInfo } from "net";
import { DEFAULT_ACCOUNT } from "../../emulator/state";
import { UpstashClient, type UpstashClientOptions } from "../../provider/http/client";
import type { UpstashApiError } from "../../provider/http/errors";
import { assertNoSecrets } from "../helpers/secrets";
import { useBareEmulator } from "../helpers/emulator";
import { resetRedisCall, readRedisCall } from "../helpers/apiCalls";

/** How much later than its budget a call may end: timers, the event loop, a loaded machine. */
const SLACK_MS = 250;

/** Runs `promise` and returns how long it took and how it ended. */
async function timed<T>(
  promise: Promise<T>,
): Promise<{ ms: number; value?: T; error?: UpstashApiError }> {
  const started = Date.now();
  try {
    const value = await promise;
    return { ms: Date.now() - started, value };
  } catch (error) {
    assertNoSecrets(error);
    return { ms: Date.now() - started, error: error as UpstashApiError };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("client: the time budget of a call", () => {
  const ctx = useBareEmulator();

  const client = (
    options: Partial<UpstashClientOptions> & { baseUrl?: string } = {},
  ): UpstashClient =>
    new UpstashClient({
      baseUrl: ctx.emulator.url,
      credentials: { email: DEFAULT_ACCOUNT.email, apiKey: DEFAULT_ACCOUNT.apiKey },
      ...options,
      retry: { baseDelayMs: 20, ...options.retry },
    });

  it("a read that hangs ends within its total budget, not after a whole extra attempt", async () => {
    ctx.emulator.faults = [{ kind: "hang" }];
    const { ms, error } = await timed(
      client({ timeoutMs: 1000, retry: { maxTotalMs: 1500 } }).call(readRedisCall),
    );
    assert.strictEqual(error?.code, "timeout");
    assert.ok(ms <= 1500 + SLACK_MS, `took ${ms} ms with a 1500 ms budget`);
    assert.strictEqual(error.attempts, 2);
  });

  it("a single attempt's timeout is cut to the budget", async () => {
    ctx.emulator.faults = [{ kind: "hang" }];
    const { ms, error } = await timed(
      client({ timeoutMs: 5000, retry: { maxTotalMs: 800 } }).call(resetRedisCall()),
    );
    assert.strictEqual(error?.code, "timeout");
    assert.ok(ms <= 800 + SLACK_MS, `took ${ms} ms with an 800 ms budget`);
  });

  it("an answer that trickles in byte by byte is cut off at the budget", async () => {
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write("[");
      const timer = setInterval(() => res.write("0,"), 100);
      res.on("close", () => clearInterval(timer));
      setTimeout(() => {
        clearInterval(timer);
        res.end("0]");
      }, 3000);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { ms, error } = await timed(
        client({
          baseUrl: `http://127.0.0.1:${port}`,
          timeoutMs: 500,
          retry: { maxTotalMs: 1200 },
        }).call(readRedisCall),
      );
      assert.strictEqual(error?.code, "timeout");
      assert.strictEqual(error.outcomeUnknown, true);
      assert.ok(ms <= 1200 + SLACK_MS, `took ${ms} ms with a 1200 ms budget`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("does not start a backoff wait that would end past the deadline", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 503 }];
    const { ms, error } = await timed(
      client({ retry: { maxTotalMs: 1000, baseDelayMs: 2000 } }).call(readRedisCall),
    );
    assert.strictEqual(error?.code, "unavailable");
    assert.strictEqual(error.attempts, 1);
    assert.ok(ms < 500, `took ${ms} ms: it waited although the wait could not fit`);
  });

  it("a Retry-After beyond the remaining budget fails at once and says how long Upstash asked to wait", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 429, retryAfter: "30" }];
    const { ms, error } = await timed(
      client({ retry: { maxTotalMs: 2000 } }).call(resetRedisCall()),
    );
    assert.ok(ms < 500, `took ${ms} ms`);
    assert.strictEqual(error?.code, "rate_limited");
    assert.strictEqual(error.name, "UpstashRateLimitError");
    assert.strictEqual(error.outcomeUnknown, false);
    assert.match(error.message, /asked to wait 30 s/);
    assert.match(error.message, /UPSTASH_API_MAX_TOTAL_MS/);
    assert.strictEqual(ctx.emulator.log.length, 1);
  });

  it("a Retry-After that fits is waited exactly, even beyond maxDelayMs", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 429, retryAfter: "2", times: 1 }];
    const { ms, error } = await timed(
      client({ retry: { maxTotalMs: 10_000, maxDelayMs: 1000 } }).call(resetRedisCall()),
    );
    assert.strictEqual(error, undefined);
    assert.ok(ms >= 1990 && ms <= 2000 + SLACK_MS, `waited ${ms} ms for a Retry-After of 2 s`);
    assert.strictEqual(ctx.emulator.rotations().length, 1);
  });

  describe("a call alone in the process, answered 429 from then on, ends within its budget", () => {
    const cases: [string, () => string | undefined][] = [
      ["without Retry-After", () => undefined],
      // About a second from now: the format rounds it down to the second.
      ["with an HTTP-date Retry-After", () => new Date(Date.now() + 1000).toUTCString()],
      ["with a delta-seconds Retry-After", () => "1"],
    ];
    for (const [name, retryAfter] of cases) {
      for (const maxConcurrency of [4, 1]) {
        it(`${name}, ${maxConcurrency} in flight`, async () => {
          // One read answered OK first: its own 429s must not make the call wait on that.
          ctx.emulator.faults = [
            { kind: "status", status: 429, retryAfter: retryAfter(), after: 1 },
          ];
          const options = { maxConcurrency, retry: { maxTotalMs: 1500, baseDelayMs: 250 } };
          await client(options).call(readRedisCall);
          const { ms, error } = await timed(client(options).call(readRedisCall));
          assert.strictEqual(error?.code, "rate_limited");
          assert.ok(ms <= 1500 + SLACK_MS, `took ${ms} ms with a 1500 ms budget`);
        });
      }
    }
  });

  it("a throttled call that another call's pause would hold past its deadline fails with its 429, not later", async () => {
    ctx.emulator.faults = [
      { kind: "status", status: 429, times: 1, method: "GET" },
      { kind: "status", status: 429, retryAfter: "2", times: 1, method: "POST" },
    ];
    const throttled = timed(
      client({ retry: { maxTotalMs: 1500, baseDelayMs: 250 } }).call(readRedisCall),
    );
    while (!ctx.emulator.log.some((entry) => entry.status === 429)) await sleep(5);
    // Now the read waits its backoff; another call's 429 holds the gate for 2 s.
    const other = client().call(resetRedisCall());
    const { ms, error } = await throttled;
    await other;
    assert.strictEqual(error?.code, "rate_limited");
    assert.ok(ms <= 1500 + SLACK_MS, `took ${ms} ms with a 1500 ms budget`);
    assert.strictEqual(ctx.emulator.log.filter((entry) => entry.method === "GET").length, 1);
  });

  it("time spent waiting for a slot at the gate does not count against the budget", async () => {
    ctx.emulator.faults = [
      { kind: "latency", ms: 1200, times: 1 },
      { kind: "status", status: 503, times: 1, after: 1 },
    ];
    const slow = client({ maxConcurrency: 1 }).call(readRedisCall);
    const started = Date.now();
    const queued = await timed(
      client({ maxConcurrency: 1, retry: { maxTotalMs: 1000 } }).call(readRedisCall),
    );
    await slow;
    assert.strictEqual(queued.error, undefined, queued.error?.message);
    assert.ok(Date.now() - started >= 1200);
    assert.strictEqual(ctx.emulator.log.length, 3);
  });

  it("time spent paused at the gate after another call's 429 does not count against the budget", async () => {
    ctx.emulator.faults = [
      { kind: "status", status: 429, retryAfter: "1", times: 1, method: "POST" },
      { kind: "status", status: 503, times: 1, method: "GET" },
    ];
    const throttled = client().call(resetRedisCall());
    while (!ctx.emulator.log.some((entry) => entry.status === 429)) await sleep(5);
    await sleep(50);
    const paused = await timed(client({ retry: { maxTotalMs: 500 } }).call(readRedisCall));
    await throttled;
    assert.strictEqual(paused.error, undefined, paused.error?.message);
    assert.ok(paused.ms >= 800, `the gate did not hold the read back (${paused.ms} ms)`);
  });
});

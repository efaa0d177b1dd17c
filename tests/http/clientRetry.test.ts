import assert from "assert";
import { startEmulator, type Fault } from "../../emulator/server";
import { DEFAULT_ACCOUNT } from "../../emulator/state";
import { UpstashClient, type UpstashClientOptions } from "../../provider/http/client";
import type { UpstashApiError } from "../../provider/http/errors";
import { assertNoSecrets } from "../helpers/secrets";
import { useBareEmulator } from "../helpers/emulator";
import { resetRedisCall, readRedisCall } from "../helpers/apiCalls";

/** Fails the test unless `promise` rejects; returns the error. */
async function failure(promise: Promise<unknown>): Promise<UpstashApiError> {
  try {
    await promise;
  } catch (error) {
    assertNoSecrets(error);
    return error as UpstashApiError;
  }
  assert.fail("the call succeeded");
}

describe("client: which failures are retried", () => {
  const ctx = useBareEmulator();

  const client = (options: Partial<UpstashClientOptions> = {}): UpstashClient =>
    new UpstashClient({
      baseUrl: ctx.emulator.url,
      credentials: { email: DEFAULT_ACCOUNT.email, apiKey: DEFAULT_ACCOUNT.apiKey },
      timeoutMs: 400,
      ...options,
      retry: { baseDelayMs: 20, maxAttempts: 4, maxTotalMs: 5000, ...options.retry },
    });
  const resets = (): number => ctx.emulator.rotations().length;
  const requests = (method: string): number =>
    ctx.emulator.log.filter((entry) => entry.method === method).length;

  for (const [name, fault] of [
    ["503", { kind: "status", status: 503 }],
    ["500", { kind: "status", status: 500 }],
    ["a timeout", { kind: "hang" }],
    ["a connection dropped after the reset took effect", { kind: "drop", afterWork: true }],
    ["a connection dropped before it took effect", { kind: "drop" }],
  ] as [string, Fault][]) {
    it(`a reset (POST) that meets ${name} is not sent again and fails with outcomeUnknown`, async () => {
      ctx.emulator.faults = [{ ...fault, times: 1 }];
      const error = await failure(client().call(resetRedisCall()));
      assert.strictEqual(requests("POST"), 1, "the reset was sent again");
      assert.strictEqual(error.outcomeUnknown, true);
      assert.strictEqual(error.attempts, 1);
      assert.ok(resets() <= 1);
    });
  }

  it("a reset (POST) answered 429 is sent again and succeeds", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 429, times: 2 }];
    await client().call(resetRedisCall());
    assert.strictEqual(requests("POST"), 3);
    assert.strictEqual(resets(), 1);
  });

  it("a reset (POST) whose connection is refused is retried; outcomeUnknown is false", async () => {
    const closed = await startEmulator();
    const url = closed.url;
    await closed.close();
    const error = await failure(client({ baseUrl: url }).call(resetRedisCall()));
    assert.strictEqual(error.code, "network");
    assert.strictEqual(error.attempts, 4, "refused connections are retried");
    assert.strictEqual(error.outcomeUnknown, false);
  });

  it("a reset (POST) whose host does not resolve is retried; outcomeUnknown is false", async () => {
    const error = await failure(
      client({ baseUrl: "http://upstash-api.invalid", retry: { maxAttempts: 2 } }).call(
        resetRedisCall(),
      ),
    );
    assert.strictEqual(error.code, "network");
    assert.strictEqual(error.attempts, 2);
    assert.strictEqual(error.outcomeUnknown, false);
  });

  it("a POST declared idempotent is retried after a 503", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 503, times: 1 }];
    await client().call(resetRedisCall({ idempotent: true }));
    assert.strictEqual(requests("POST"), 2);
  });

  for (const [name, fault] of [
    ["503", { kind: "status", status: 503 }],
    ["a timeout", { kind: "hang" }],
    ["a dropped connection", { kind: "drop" }],
  ] as [string, Fault][]) {
    it(`a read (GET) that meets ${name} is retried and succeeds`, async () => {
      ctx.emulator.faults = [{ ...fault, times: 1 }];
      await client().call(readRedisCall);
      assert.strictEqual(requests("GET"), 2);
    });
  }

  it("a GET declared not idempotent fails at once on a 503", async () => {
    ctx.emulator.faults = [{ kind: "status", status: 503 }];
    const error = await failure(client().call({ ...readRedisCall, idempotent: false }));
    assert.strictEqual(requests("GET"), 1);
    assert.strictEqual(error.code, "unavailable");
    assert.strictEqual(error.outcomeUnknown, true);
  });

  it("a read that keeps timing out ends with outcomeUnknown true after its attempts", async () => {
    ctx.emulator.faults = [{ kind: "hang" }];
    const error = await failure(client({ retry: { maxAttempts: 2 } }).call(readRedisCall));
    assert.strictEqual(error.code, "timeout");
    assert.strictEqual(error.attempts, 2);
    assert.strictEqual(error.outcomeUnknown, true);
  });

  for (const [status, code] of [
    [400, "bad_request"],
    [401, "unauthorized"],
    [404, "not_found"],
    [429, "rate_limited"],
  ] as const) {
    it(`HTTP ${status} fails as ${code} with outcomeUnknown false`, async () => {
      ctx.emulator.faults = [{ kind: "status", status }];
      const error = await failure(client({ retry: { maxAttempts: 2 } }).call(resetRedisCall()));
      assert.strictEqual(error.code, code);
      assert.strictEqual(error.outcomeUnknown, false);
      assert.strictEqual(resets(), 0);
    });
  }

  it("a malformed 2xx body is malformed_response with outcomeUnknown false", async () => {
    ctx.emulator.faults = [{ kind: "malformed-json", method: "POST" }];
    const error = await failure(client().call(resetRedisCall()));
    assert.strictEqual(error.code, "malformed_response");
    assert.strictEqual(error.outcomeUnknown, false);
    assert.strictEqual(resets(), 1);
    assert.strictEqual(requests("POST"), 1);
  });

  it("a retried read whose last answer is a 404 still reports the earlier unknown outcome", async () => {
    ctx.emulator.faults = [
      { kind: "status", status: 503, times: 1 },
      { kind: "status", status: 404, after: 1 },
    ];
    const error = await failure(client().call(readRedisCall));
    assert.strictEqual(error.code, "not_found");
    assert.strictEqual(error.outcomeUnknown, true);
  });
});

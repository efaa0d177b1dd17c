import assert from "assert";
import { randomBytes } from "crypto";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { UpstashClient, type ApiCall } from "../../provider/http/client";
import type { UpstashApiError } from "../../provider/http/errors";
import { assertNoSecrets, everything } from "../helpers/secrets";
import { useBareEmulator } from "../helpers/emulator";
import { resetRedisCall } from "../helpers/apiCalls";

const DB = FIXTURE_IDS.redis;

/** A database password as Upstash makes them: 32 hex digits. */
const password = (): string => randomBytes(16).toString("hex");
/** A REST token: 50 characters of base64, `+`, `/` and `=` included. */
const token = (): string => `${randomBytes(36).toString("base64").slice(0, 47)}+/=`;

describe("client: credentials a response echoes are not put in errors", () => {
  const ctx = useBareEmulator();

  const client = (): UpstashClient =>
    new UpstashClient({
      baseUrl: ctx.emulator.url,
      credentials: { email: DEFAULT_ACCOUNT.email, apiKey: DEFAULT_ACCOUNT.apiKey },
      retry: { baseDelayMs: 20, maxAttempts: 2 },
    });

  async function failure(call: ApiCall<unknown>): Promise<UpstashApiError> {
    try {
      await client().call(call);
    } catch (error) {
      assertNoSecrets(error);
      return error as UpstashApiError;
    }
    assert.fail("the call succeeded");
  }

  const answers: [string, number, string, (text: string) => string][] = [
    ["a 502 JSON body", 502, "application/json", (text) => JSON.stringify({ error: text })],
    ["a 400 plain-text body", 400, "text/plain", (text) => text],
    ["a 500 JSON message", 500, "application/json", (text) => JSON.stringify({ message: text })],
  ];
  for (const [name, status, contentType, body] of answers) {
    it(`${name} echoing a password and a REST token yields a message with neither`, async () => {
      const secret = password();
      const restToken = token();
      ctx.emulator.faults = [
        {
          kind: "status",
          status,
          contentType,
          body: body(`reset failed: password=${secret} token "${restToken}" (db ${DB})`),
        },
      ];
      const error = await failure(resetRedisCall());
      assert.strictEqual(error.status, status);
      assertNoSecrets(error, [secret, restToken, restToken.slice(0, 20), secret.slice(0, 20)]);
      assert.match(error.upstashMessage ?? "", /^reset failed: \[redacted\] token "\[redacted\]"/);
      assert.ok(error.upstashMessage?.includes(DB), "the database id (a UUID) was kept");
    });
  }

  it("a body with a UUID and a normal sentence keeps them", async () => {
    const id = "0639864f-ece6-429c-8118-86a287b0e808";
    const sentence = `Database ${id} is being restored from a backup, please try again in a few minutes`;
    ctx.emulator.faults = [
      {
        kind: "status",
        status: 409,
        contentType: "application/json",
        body: JSON.stringify({ error: sentence }),
      },
    ];
    const error = await failure(resetRedisCall());
    assert.strictEqual(error.upstashMessage, sentence);
    assert.ok(error.message.includes(sentence), error.message);
  });

  it("values the caller names in `secrets` are redacted, however short or shaped", async () => {
    const secrets = ["pw-short-1", "user@example.org"];
    ctx.emulator.faults = [
      {
        kind: "status",
        status: 502,
        body: `upstream said: pw-short-1 for user@example.org rejected`,
      },
    ];
    const error = await failure(resetRedisCall({ secrets }));
    assertNoSecrets(error, secrets);
    assert.match(
      error.upstashMessage ?? "",
      /upstream said: \[redacted\] for \[redacted\] rejected/,
    );
  });

  it("a named secret cut by the 200-character limit leaves no prefix behind", async () => {
    const secret = "abcd-efgh-ijkl-mnop-qrst";
    ctx.emulator.faults = [
      { kind: "status", status: 502, body: `${"word ".repeat(38)}${secret} and more words` },
    ];
    const error = await failure(resetRedisCall({ secrets: [secret] }));
    assert.ok(!everything(error).includes("abcd-efgh"), error.message);
  });

  it("a malformed 2xx body does not put a named secret in the error", async () => {
    const secret = "pw-short-2";
    ctx.emulator.faults = [];
    const error = await failure(
      resetRedisCall({
        secrets: [secret],
        parse: () => {
          throw new Error(`unexpected password ${secret}`);
        },
      }),
    );
    assert.strictEqual(error.code, "malformed_response");
    assertNoSecrets(error, [secret]);
  });
});

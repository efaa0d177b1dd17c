import assert from "assert";
import { spawn, type ChildProcess } from "child_process";
import { once } from "events";
import path from "path";
import { banner, parseOptions } from "../../emulator/main";
import { startEmulator } from "../../emulator/server";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import { basic } from "./http";

describe("emulator: npm run emulator (emulator/main.ts)", () => {
  describe("parseOptions", () => {
    it("defaults to 127.0.0.1:8787 and the default account", () => {
      assert.deepStrictEqual(parseOptions([], {}), {
        port: 8787,
        host: "127.0.0.1",
        account: DEFAULT_ACCOUNT,
      });
    });

    it("reads EMULATOR_* from the environment; flags (--x v or --x=v) win", () => {
      const env = {
        EMULATOR_PORT: "9000",
        EMULATOR_HOST: "0.0.0.0",
        EMULATOR_EMAIL: "env@example.com",
        EMULATOR_API_KEY: "env-key",
      };
      assert.deepStrictEqual(parseOptions([], env), {
        port: 9000,
        host: "0.0.0.0",
        account: { email: "env@example.com", apiKey: "env-key" },
      });
      assert.deepStrictEqual(
        parseOptions(["--port", "0", "--email=flag@example.com", "--api-key", "k=v"], env),
        { port: 0, host: "0.0.0.0", account: { email: "flag@example.com", apiKey: "k=v" } },
      );
    });

    it("never takes the account from UPSTASH_EMAIL / UPSTASH_API_KEY", () => {
      const options = parseOptions([], { UPSTASH_EMAIL: "real@x.com", UPSTASH_API_KEY: "real" });
      assert.deepStrictEqual(options.account, DEFAULT_ACCOUNT);
    });

    for (const [argv, message] of [
      [["--port", "http"], /port must be an integer/],
      [["--port", "70000"], /port must be an integer/],
      [["--email"], /--email needs a value/],
      [["--api-key="], /--api-key needs a value/],
      [["--verbose"], /unknown option --verbose/],
    ] as const) {
      it(`rejects ${argv.join(" ")}`, () => {
        assert.throws(() => parseOptions(argv, {}), message);
      });
    }
  });

  it("the banner names the URL, the account and every fixture id", () => {
    const text = banner("http://127.0.0.1:1234", { email: "a@b.c", apiKey: "key-1" });
    assert.match(text, /UPSTASH_API_URL=http:\/\/127\.0\.0\.1:1234\n/);
    assert.match(text, /UPSTASH_DATA_PLANE_URL=http:\/\/127\.0\.0\.1:1234\/data-plane\n/);
    assert.match(text, /UPSTASH_EMAIL=a@b\.c\n/);
    assert.match(text, /UPSTASH_API_KEY=key-1\n/);
    for (const id of Object.values(FIXTURE_IDS)) assert.ok(text.includes(id), id);
    assert.match(text, /POST http:\/\/127\.0\.0\.1:1234\/_emulator\/targets/);
  });

  it("startEmulator reports the host it listens on", async () => {
    const emulator = await startEmulator({ host: "localhost" });
    try {
      assert.match(emulator.url, /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/);
      const reply = await fetch(`${emulator.url}/v2/redis/databases`, {
        headers: { Authorization: basic(DEFAULT_ACCOUNT.email, DEFAULT_ACCOUNT.apiKey) },
      });
      assert.strictEqual(reply.status, 200);
    } finally {
      await emulator.close();
    }
  });

  it("startEmulator rejects when the port is taken", async () => {
    const first = await startEmulator();
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(startEmulator({ port }), /EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  describe("as a process", () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    });

    it("prints the URL first, then the account and fixtures, and serves that account", async () => {
      child = spawn(
        process.execPath,
        [
          "-r",
          "ts-node/register",
          path.join("emulator", "main.ts"),
          "--port",
          "0",
          "--api-key",
          "cli-key",
        ],
        {
          cwd: path.resolve(__dirname, "../.."),
          env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", EMULATOR_EMAIL: "cli@x.com" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const deadline = Date.now() + 45_000;
      while (!/_emulator\/targets/.test(stderr)) {
        assert.ok(Date.now() < deadline, `no banner; stdout ${stdout}, stderr ${stderr}`);
        assert.strictEqual(child.exitCode, null, `exited early: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const url = stdout.split("\n")[0];
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(stderr.includes(`UPSTASH_API_URL=${url}`));
      assert.ok(stderr.includes("UPSTASH_EMAIL=cli@x.com"));
      assert.ok(stderr.includes("UPSTASH_API_KEY=cli-key"));
      assert.ok(stderr.includes(FIXTURE_IDS.redis));

      const ok = await fetch(`${url}/v2/redis/databases`, {
        headers: { Authorization: basic("cli@x.com", "cli-key") },
      });
      assert.strictEqual(ok.status, 200);
      const wrong = await fetch(`${url}/v2/redis/databases`, {
        headers: { Authorization: basic(DEFAULT_ACCOUNT.email, DEFAULT_ACCOUNT.apiKey) },
      });
      assert.strictEqual(wrong.status, 401);

      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.strictEqual(code, 0);
    });

    it("exits 2 with the usage on a bad option", async () => {
      child = spawn(process.execPath, ["-r", "ts-node/register", "emulator/main.ts", "--nope"], {
        cwd: path.resolve(__dirname, "../.."),
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      assert.strictEqual(code, 2);
      assert.match(stderr, /unknown option --nope/);
      assert.match(stderr, /Usage: npm run emulator/);
    });
  });
});

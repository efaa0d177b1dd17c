import assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { inspect } from "util";
import type { Fault, UpstashEmulator } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import type { RotationInputs } from "../../provider/inputs";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { setEnvironment } from "../helpers/environment";
import { everything } from "../helpers/secrets";

const FAKE_EMAIL = "redaction-audit-7f3a@example.com";
const FAKE_KEY = "AUDIT-KEY-0d9c4e2b-never-print-me";
const BASIC = Buffer.from(`${FAKE_EMAIL}:${FAKE_KEY}`).toString("base64");
// The engine's key marking a secret value in serialized properties.
const SECRET_SIG = pulumi.runtime.specialSigKey;

const REDIS = { type: "redis", databaseId: FIXTURE_IDS.redis } as const;
const VECTOR = { type: "vector", indexId: FIXTURE_IDS.vector } as const;

/** Everything written to stdout/stderr (console included) while `run` executes. */
async function capturingOutput(run: () => Promise<void>): Promise<string> {
  const written: string[] = [];
  const original = { out: process.stdout.write, err: process.stderr.write };
  const record = (chunk: unknown): boolean => {
    written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };
  process.stdout.write = record as typeof process.stdout.write;
  process.stderr.write = record as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stdout.write = original.out;
    process.stderr.write = original.err;
  }
  return written.join("");
}

/**
 * An error the way every consumer may render it: its fields, Node's inspection
 * (what an uncaught error prints), and the dynamic-provider host's
 * `${e}: ${e.stack}` log line. Values inside the engine's secret envelope are
 * left out: the engine encrypts them, which is their purpose.
 */
function renderings(error: unknown): string {
  const withoutEngineSecrets = (text: string) =>
    text.replace(new RegExp(`\\{"${SECRET_SIG}":"[0-9a-f]+","value":"[^"]*"\\}`, "g"), "<secret>");
  const { stack } = (error ?? {}) as { stack?: string };
  return [
    withoutEngineSecrets(everything(error)),
    inspect(error, { depth: 10 }),
    `${String(error)}: ${stack ?? ""}`,
  ].join("\n");
}

interface FailingPath {
  name: string;
  faults?: Fault[];
  env?: Record<string, string>;
  run(emulator: UpstashEmulator): Promise<unknown>;
}

/** An error body that repeats everything the request carried, as a careless proxy might. */
const ECHO = `Invalid credentials ${FAKE_EMAIL}:${FAKE_KEY} (Authorization: Basic ${BASIC})`;

const create = (inputs: Partial<RotationInputs> & Pick<RotationInputs, "target">) => () =>
  createThroughProvider({ trigger: 1, ...inputs });

const PATHS: FailingPath[] = [
  {
    name: "401 with the request echoed",
    faults: [{ kind: "status", status: 401, body: ECHO }],
    run: create({ target: REDIS }),
  },
  {
    name: "403 JSON error echoing the key",
    faults: [
      {
        kind: "status",
        status: 403,
        body: JSON.stringify({ error: ECHO }),
        contentType: "application/json",
      },
    ],
    run: create({ target: REDIS }),
  },
  {
    name: "400 JSON message echoing the key",
    faults: [{ kind: "status", status: 400, body: JSON.stringify({ message: ECHO }) }],
    run: create({ target: VECTOR }),
  },
  {
    name: "404 unknown target",
    run: create({ target: { type: "redis", databaseId: "no-such-database" } }),
  },
  {
    name: "405 / 406",
    faults: [{ kind: "status", status: 406, body: ECHO }],
    run: create({ target: { type: "search", indexId: FIXTURE_IDS.search } }),
  },
  {
    name: "429 until the budget runs out",
    env: { UPSTASH_API_MAX_ATTEMPTS: "2" },
    faults: [{ kind: "status", status: 429, body: ECHO }],
    run: create({ target: REDIS }),
  },
  {
    name: "500 / 503 until the budget runs out",
    env: { UPSTASH_API_MAX_ATTEMPTS: "2" },
    faults: [{ kind: "status", status: 503, body: ECHO }],
    run: create({ target: { type: "qstash" } }),
  },
  {
    name: "connection resets",
    env: { UPSTASH_API_MAX_ATTEMPTS: "2" },
    faults: [{ kind: "drop" }],
    run: create({ target: REDIS }),
  },
  {
    name: "timeouts",
    env: { UPSTASH_API_MAX_ATTEMPTS: "2", UPSTASH_API_TIMEOUT_MS: "200" },
    faults: [{ kind: "hang" }],
    run: create({ target: VECTOR }),
  },
  {
    name: "malformed JSON holding credentials, on read",
    faults: [{ kind: "malformed-json", method: "GET" }],
    run: async () => {
      const { id, state } = await createThroughProvider({ target: REDIS, trigger: 1 });
      return provider.read!(id, state);
    },
  },
  {
    name: "HTML instead of JSON, on read",
    faults: [{ kind: "wrong-content-type", method: "GET" }],
    run: async () => {
      const { id, state } = await createThroughProvider({ target: VECTOR, trigger: 1 });
      return provider.read!(id, state);
    },
  },
  {
    name: "read-back fails after the reset (partial failure), credentials as inputs",
    env: { UPSTASH_API_MAX_ATTEMPTS: "1" },
    faults: [{ kind: "status", status: 500, method: "GET", body: ECHO }],
    run: create({ target: VECTOR, email: FAKE_EMAIL, apiKey: FAKE_KEY }),
  },
  {
    name: "update: key revoked between reset and read-back",
    run: async (emulator) => {
      const { id, state } = await createThroughProvider({ target: VECTOR, trigger: 1 });
      emulator.faults = [{ kind: "status", status: 401, method: "GET", body: ECHO }];
      return updateThroughProvider(id, state, { trigger: 2 });
    },
  },
  {
    name: "delete with onDelete rotate during an outage",
    env: { UPSTASH_API_MAX_ATTEMPTS: "1" },
    run: async (emulator) => {
      const { id, state } = await createThroughProvider({
        target: REDIS,
        trigger: 1,
        onDelete: "rotate",
      });
      emulator.faults = [{ kind: "status", status: 500, body: ECHO }];
      return provider.delete!(id, state);
    },
  },
  {
    name: "half-configured credentials",
    env: { UPSTASH_EMAIL: "" },
    run: create({ target: REDIS }),
  },
  {
    name: "credentials pasted into the wrong fields",
    run: async () => {
      const checked = await provider.check!(
        {} as never,
        {
          target: { type: "redis", databaseId: FAKE_KEY, password: FAKE_KEY },
          onDelete: FAKE_KEY,
          email: FAKE_EMAIL,
        } as never,
      );
      if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
    },
  },
];

describe("redaction audit: no failing path prints or throws a secret", () => {
  const ctx = useEmulator();
  /** Every credential the emulator has issued during the audit. */
  const issued = new Set<string>();
  const collectIssued = () => {
    const { redis, vector, search, qstash } = ctx.emulator.data;
    for (const db of redis.values())
      [db.password, db.rest_token, db.read_only_rest_token].forEach((v) => issued.add(v));
    for (const ix of [...vector.values(), ...search.values()])
      [ix.token, ix.read_only_token].forEach((v) => issued.add(v));
    for (const user of qstash.values())
      [user.token, user.read_only_token, user.password].forEach((v) => issued.add(v));
  };

  beforeEach(() => {
    ctx.emulator.reset({ email: FAKE_EMAIL, apiKey: FAKE_KEY });
    process.env.UPSTASH_EMAIL = FAKE_EMAIL;
    process.env.UPSTASH_API_KEY = FAKE_KEY;
    rememberConfiguredCredentials(undefined, undefined);
    collectIssued();
  });

  for (const path of PATHS) {
    it(path.name, async () => {
      const restoreEnvironment = setEnvironment(path.env ?? {});
      ctx.emulator.faults = (path.faults ?? []).map((fault) => ({ ...fault }));
      let failure: unknown;
      const output = await capturingOutput(async () => {
        try {
          await path.run(ctx.emulator);
        } catch (error) {
          failure = error;
          // What an unhandled rejection or the provider host would print.
          console.error(error);
          console.error(`${String(error)}: ${(error as { stack?: string }).stack ?? ""}`);
        }
      }).finally(restoreEnvironment);
      collectIssued();

      assert.ok(failure, "the path did not fail, so it audits nothing");
      const haystack = `${output}\n${renderings(failure)}`;
      for (const secret of [FAKE_KEY, FAKE_EMAIL, BASIC, ...issued]) {
        assert.ok(!haystack.includes(secret), `a secret leaked:\n${haystack}`);
      }
      // The echoed body names the header itself; what must never appear is its value or an axios headers object.
      assert.doesNotMatch(
        haystack,
        /basic\s+(?!\[redacted\])[A-Za-z0-9+/=]{8,}|["']?authorization["']?\s*:\s*["']/i,
      );
    });
  }
});

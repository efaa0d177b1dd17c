import assert from "assert";
import type { Fault } from "../../emulator/server";
import { FIXTURE_IDS } from "../../emulator/state";
import { hasUpstashCode, type RotationState } from "../../provider";
import {
  createThroughProvider,
  provider,
  updateThroughProvider,
  useEmulator,
} from "../helpers/emulator";
import { printTable } from "../harness/textTable";
import { setEnvironment } from "../helpers/environment";
import { assertNoSecrets } from "../helpers/secrets";

type Operation = "create" | "update" | "read" | "delete";

/** Which request a fault hits: the operation's first one (a read), or its reset. */
type Place = "first request" | "reset";

interface FaultCase {
  name: string;
  /** Applied to the first matching request (or, with `after`, to the later ones). */
  fault: Fault;
  /** Whether the operation must still succeed; otherwise a clear typed error is required. */
  succeeds(operation: Operation, target: "redis" | "vector", place: Place): boolean;
}

const always = () => true;

const FAULTS: FaultCase[] = [
  {
    name: "429 + Retry-After",
    fault: { kind: "status", status: 429, retryAfter: "1", times: 1 },
    succeeds: always,
  },
  {
    name: "429, no Retry-After",
    fault: { kind: "status", status: 429, times: 2 },
    succeeds: always,
  },
  // A 5xx proves nothing about a reset (a gateway may have passed it on): it is never sent
  // again in the same run, and the run ends in a partial failure that the next up settles.
  {
    name: "500",
    fault: { kind: "status", status: 500, times: 2 },
    succeeds: (_op, _target, place) => place !== "reset",
  },
  {
    name: "503",
    fault: { kind: "status", status: 503, times: 2 },
    succeeds: (_op, _target, place) => place !== "reset",
  },
  // A gateway's answer while the origin carries the request out: the work lands 1.5 s later,
  // within the readings that settle an unknown outcome, so there is still exactly one reset.
  ...[502, 503, 520, 524].map((status): FaultCase => ({
    name: `${status}, lands 1.5 s later`,
    fault: { kind: "status", status, landsAfterMs: 1500, times: 1 },
    succeeds: always,
  })),
  // A reset that got no answer may still land: it is never sent again in the same run, and
  // while the credentials stay unchanged the run ends in a partial failure (settled later).
  {
    name: "connection reset",
    fault: { kind: "drop", times: 1 },
    succeeds: (_op, _target, place) => place !== "reset",
  },
  {
    name: "reset after the work",
    fault: { kind: "drop", times: 1, afterWork: true },
    succeeds: always,
  },
  {
    name: "timeout",
    fault: { kind: "hang", times: 1 },
    succeeds: (_op, _target, place) => place !== "reset",
  },
  {
    name: "timeout after the work",
    fault: { kind: "hang", times: 1, afterWork: true },
    succeeds: always,
  },
  // A reset whose answer is unreadable still happened: the credentials are read back.
  // A reading has nothing to fall back on.
  {
    name: "malformed JSON",
    fault: { kind: "malformed-json", times: 1 },
    succeeds: (_op, _target, place) => place === "reset",
  },
  {
    name: "wrong content type",
    fault: { kind: "wrong-content-type", times: 1 },
    succeeds: (_op, _target, place) => place === "reset",
  },
  // The key is revoked once the first matching request is through. Counted over all
  // requests, that refuses the reset that follows the first reading (nothing happens); counted
  // over resets only, the one reset goes through. A refresh makes one request.
  {
    name: "401 mid-run",
    fault: { kind: "status", status: 401, after: 1, body: '{"error":"Unauthorized"}' },
    succeeds: (op, _target, place) => op === "read" || place === "reset",
  },
];

const TARGETS = {
  redis: { type: "redis", databaseId: FIXTURE_IDS.redis },
  vector: { type: "vector", indexId: FIXTURE_IDS.vector },
} as const;

/** A partial failure: the engine records the resource (without credentials) and refresh settles it. */
function isPartialFailure(error: unknown): boolean {
  const { id, message = "" } = (error ?? {}) as { id?: string; message?: string };
  return Boolean(id) && /Run `pulumi refresh`/.test(message);
}

/** Whether an error is one a user can act on: typed, or the partial failure naming refresh. */
function isClear(error: unknown, operation: Operation): boolean {
  const { message = "" } = (error ?? {}) as { message?: string };
  if (hasUpstashCode(error) || isPartialFailure(error)) return true;
  return operation === "delete" && /^onDelete "rotate": .*Upstash API: /.test(message);
}

describe("fault matrix: every operation under every fault", function () {
  this.timeout(120_000);
  const ctx = useEmulator();
  const rows: string[][] = [];
  let restoreEnvironment: (() => void) | undefined;

  // Per test, so it nests inside useEmulator's own settings: hung requests give up quickly.
  beforeEach(() => {
    restoreEnvironment = setEnvironment({ UPSTASH_API_TIMEOUT_MS: "300" });
  });
  afterEach(() => restoreEnvironment?.());
  after(() => {
    console.log("");
    printTable(
      [
        "target",
        "operation",
        "fault",
        "on",
        "outcome",
        "requests",
        "reset calls",
        "applied resets",
      ],
      rows,
    );
  });

  for (const [targetName, target] of Object.entries(TARGETS) as [
    "redis" | "vector",
    (typeof TARGETS)["redis" | "vector"],
  ][]) {
    for (const operation of ["create", "update", "read", "delete"] as const) {
      // A read sends no reset.
      const places: Place[] = operation === "read" ? ["first request"] : ["first request", "reset"];
      for (const place of places) {
        for (const faultCase of FAULTS) {
          it(`${targetName} ${operation}: ${faultCase.name} on the ${place}`, async () => {
            const emulator = ctx.emulator;
            let prepared: { id: string; state: RotationState } | undefined;
            if (operation !== "create") {
              prepared = await createThroughProvider({ target, trigger: 1, onDelete: "rotate" });
            }
            emulator.log.length = 0;
            emulator.faults = [
              { ...faultCase.fault, ...(place === "reset" ? { method: "POST" } : {}) },
            ];

            let failure: unknown;
            try {
              if (operation === "create") await createThroughProvider({ target, trigger: 1 });
              if (operation === "update")
                await updateThroughProvider(prepared!.id, prepared!.state, { trigger: 2 });
              if (operation === "read") await provider.read!(prepared!.id, prepared!.state);
              if (operation === "delete") await provider.delete!(prepared!.id, prepared!.state);
            } catch (error) {
              failure = error;
            }

            const resetCalls = emulator.log.filter((e) => e.method === "POST").length;
            const resets = emulator.rotations().length;
            rows.push([
              targetName,
              operation,
              faultCase.name,
              place,
              failure
                ? `error: ${hasUpstashCode(failure) ? failure.code : isPartialFailure(failure) ? "partial" : "wrapped"}`
                : "ok",
              String(emulator.log.length),
              String(resetCalls),
              String(resets),
            ]);

            if (faultCase.succeeds(operation, targetName, place)) {
              assert.strictEqual(failure, undefined, `expected success, got: ${String(failure)}`);
            } else {
              assert.ok(failure, "expected a clear error, but the operation succeeded");
              assert.ok(isClear(failure, operation), `unclear error: ${String(failure)}`);
              assertNoSecrets(failure);
            }
            const needed = operation === "read" ? 0 : 1;
            if (!failure) {
              assert.strictEqual(
                resets,
                needed,
                `${resets} resets applied where ${needed} is right`,
              );
            } else {
              assert.ok(resets <= needed, `${resets} resets applied by a failed ${operation}`);
              // A reset that happened is never hidden behind a plain error (except on delete,
              // where a dead credential is the goal).
              if (resets > 0 && operation !== "delete") assert.ok(isPartialFailure(failure));
            }
          });
        }
      }
    }
  }
});

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
import { printTable } from "../../scripts/textTable";
import { setEnvironment } from "../helpers/environment";
import { assertNoSecrets } from "../helpers/secrets";

type Operation = "create" | "update" | "read" | "delete";

interface FaultCase {
  name: string;
  /** Applied to the operation's first request (or, with `after`, to the later ones). */
  fault: Fault;
  /** The faulted request may have taken effect unanswered: one more reset is legitimate. */
  unknownResult?: boolean;
  /** Whether the operation must still succeed; otherwise a clear typed error is required. */
  succeeds(operation: Operation, target: "redis" | "vector"): boolean;
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
  { name: "500", fault: { kind: "status", status: 500, times: 2 }, succeeds: always },
  { name: "503", fault: { kind: "status", status: 503, times: 2 }, succeeds: always },
  { name: "connection reset", fault: { kind: "drop", times: 1 }, succeeds: always },
  {
    name: "reset after the work",
    fault: { kind: "drop", times: 1, afterWork: true },
    unknownResult: true,
    succeeds: always,
  },
  { name: "timeout", fault: { kind: "hang", times: 1 }, succeeds: always },
  {
    name: "timeout after the work",
    fault: { kind: "hang", times: 1, afterWork: true },
    unknownResult: true,
    succeeds: always,
  },
  // A reset whose answer is unreadable still happened: the credentials are read back.
  // A read has nothing to fall back on.
  {
    name: "malformed JSON",
    fault: { kind: "malformed-json", times: 1 },
    succeeds: (op) => op !== "read",
  },
  {
    name: "wrong content type",
    fault: { kind: "wrong-content-type", times: 1 },
    succeeds: (op) => op !== "read",
  },
  // The key is revoked once the first request is through; only a Vector reset's read-back
  // notices. Delete only needs the old credentials dead, which they are.
  {
    name: "401 mid-run",
    fault: { kind: "status", status: 401, after: 1, body: '{"error":"Unauthorized"}' },
    succeeds: (op, target) => target === "redis" || op === "read" || op === "delete",
  },
];

const TARGETS = {
  redis: { type: "redis", databaseId: FIXTURE_IDS.redis },
  vector: { type: "vector", indexId: FIXTURE_IDS.vector },
} as const;

/** Whether an error is one a user can act on: typed, or the partial failure naming refresh. */
function isClear(error: unknown, operation: Operation): boolean {
  const { id, message = "" } = (error ?? {}) as { id?: string; message?: string };
  if (hasUpstashCode(error)) return true;
  if (id && /were rotated .* Run `pulumi refresh`/.test(message)) return true;
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
      ["target", "operation", "fault", "outcome", "requests", "reset calls", "resets"],
      rows,
    );
  });

  for (const [targetName, target] of Object.entries(TARGETS) as [
    "redis" | "vector",
    (typeof TARGETS)["redis" | "vector"],
  ][]) {
    for (const operation of ["create", "update", "read", "delete"] as const) {
      for (const faultCase of FAULTS) {
        it(`${targetName} ${operation}: ${faultCase.name}`, async () => {
          const emulator = ctx.emulator;
          let prepared: { id: string; state: RotationState } | undefined;
          if (operation !== "create") {
            prepared = await createThroughProvider({ target, trigger: 1, onDelete: "rotate" });
          }
          emulator.log.length = 0;
          emulator.faults = [{ ...faultCase.fault }];

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
            failure ? `error: ${hasUpstashCode(failure) ? failure.code : "partial/wrapped"}` : "ok",
            String(emulator.log.length),
            String(resetCalls),
            String(resets),
          ]);

          if (faultCase.succeeds(operation, targetName)) {
            assert.strictEqual(failure, undefined, `expected success, got: ${String(failure)}`);
          } else {
            assert.ok(failure, "expected a clear error, but the operation succeeded");
            assert.ok(isClear(failure, operation), `unclear error: ${String(failure)}`);
            assertNoSecrets(failure);
          }
          const needed = operation === "read" ? 0 : 1;
          const allowed = needed + (faultCase.unknownResult && needed ? 1 : 0);
          assert.ok(resets <= allowed, `${resets} resets where ${allowed} at most are needed`);
          if (!failure) assert.ok(resets >= needed, "succeeded without resetting");
        });
      }
    }
  }
});

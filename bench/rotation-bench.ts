/**
 * `npm run bench`: measures and prints how the provider behaves under load.
 * Not a test: it asserts nothing and only reports figures (README → Performance).
 *
 *   npm run bench                  all sections
 *   npm run bench -- --skip-pulumi without the `pulumi up` sections (no CLI needed)
 *   npm run bench -- --engine-only only the engine side-by-side (bench/engineCost.ts);
 *                                  --rounds N timed rounds (default 3), --skip-plugin
 *                                  without the provider plugin's side
 */
import { execFileSync } from "child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "fs";
import http from "http";
import os from "os";
import path from "path";
import { performance } from "perf_hooks";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  emulatorEnvironment,
  startEmulator,
  type Fault,
  type UpstashEmulator,
} from "../emulator/server";
import { addIndex, addRedis, DEFAULT_ACCOUNT } from "../emulator/state";
import { credentialRotationProvider as provider, CredentialRotation } from "../provider";
import { forgetSharedRequestGate } from "../provider/http/concurrency";
import type { RotationTarget } from "../provider/targets";
import { localStack, REPO_ROOT } from "../tests/harness/pulumiHarness";
import { installPackedPackage } from "../tests/harness/installedPackage";
import { serializeProvider } from "../tests/harness/serializedProvider";
import { printTable } from "../tests/harness/textTable";
import { createThroughProvider } from "../tests/helpers/emulator";
import { engineCost } from "./engineCost";

const LATENCY_MS = 50;
const RATE_PER_SECOND = 10;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const fmt = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`;

/**
 * The least wall time the emulator's limit allows for `requests` requests: it
 * counts requests in fixed one-second windows, so all but the last window's
 * worth must wait out whole windows, and the last ones still take one latency.
 */
function minimumMs(requests: number): number {
  return (Math.ceil(requests / RATE_PER_SECOND) - 1) * 1000 + LATENCY_MS;
}

/** The Developer API requests the emulator logged (not the data-plane ones). */
function apiRequests(emulator: UpstashEmulator): UpstashEmulator["log"] {
  return emulator.log.filter((entry) => entry.plane !== "data");
}

async function concurrentRotations(emulator: UpstashEmulator): Promise<void> {
  console.log(
    `== N concurrent rotations through the provider (emulator: ${LATENCY_MS} ms latency, ${RATE_PER_SECOND} requests/s, 429 beyond)\n`,
  );
  const rows: string[][] = [];
  for (const kind of ["redis", "vector"] as const) {
    for (const n of [1, 10, 100]) {
      emulator.reset(DEFAULT_ACCOUNT);
      const targets: RotationTarget[] = Array.from({ length: n }, () =>
        kind === "redis"
          ? { type: "redis", databaseId: addRedis(emulator.data).database_id }
          : { type: "vector", indexId: addIndex(emulator.data, "vector").id },
      );
      emulator.faults = [{ kind: "latency", ms: LATENCY_MS }];
      emulator.rateLimitPerSecond = RATE_PER_SECOND;
      forgetSharedRequestGate();

      const started = performance.now();
      const outcomes = await Promise.allSettled(
        targets.map((t) => createThroughProvider({ target: t, trigger: "bench" })),
      );
      const wall = performance.now() - started;

      const failures = outcomes.filter((o) => o.status === "rejected").length;
      // The limit applies to the Developer API, not to the data plane a rotation verifies on.
      const api = apiRequests(emulator);
      const throttled = api.filter((e) => e.status === 429).length;
      // What the emulator actually served, from its log: not an assumed count per
      // rotation, since a create may make more requests than its reset.
      const served = api.filter((e) => e.status !== 429).length;
      const minimum = minimumMs(served);
      rows.push([
        kind,
        String(n),
        fmt(wall),
        String(api.length),
        String(throttled),
        String(emulator.rotations().length),
        String(failures),
        fmt(minimum),
        (wall / minimum).toFixed(2),
      ]);
    }
  }
  printTable(
    ["target", "N", "wall time", "API requests", "429s", "resets", "failures", "minimum", "ratio"],
    rows,
  );
}

interface Run {
  wall: number;
  requests: number;
  throttled: number;
  failures: number;
}

/**
 * Runs `n` creates against a fresh emulator set up by `faults`, all at once or
 * one after another; returns the wall time and what the emulator saw.
 */
async function rotations(
  emulator: UpstashEmulator,
  kind: "redis" | "vector",
  n: number,
  faults: Fault[],
  sequential = false,
): Promise<Run> {
  emulator.reset(DEFAULT_ACCOUNT);
  const targets: RotationTarget[] = Array.from({ length: n }, () =>
    kind === "redis"
      ? { type: "redis", databaseId: addRedis(emulator.data).database_id }
      : { type: "vector", indexId: addIndex(emulator.data, "vector").id },
  );
  emulator.faults = faults;
  forgetSharedRequestGate();
  const create = (target: RotationTarget) => createThroughProvider({ target, trigger: "bench" });
  const started = performance.now();
  let outcomes: PromiseSettledResult<unknown>[];
  if (sequential) {
    outcomes = [];
    for (const target of targets) outcomes.push((await Promise.allSettled([create(target)]))[0]);
  } else {
    outcomes = await Promise.allSettled(targets.map(create));
  }
  const wall = performance.now() - started;
  const api = apiRequests(emulator);
  return {
    wall,
    requests: api.length,
    throttled: api.filter((e) => e.status === 429).length,
    failures: outcomes.filter((o) => o.status === "rejected").length,
  };
}

/** Runs `measure` `times` times and returns the run with the median wall time. */
async function medianRun(times: number, measure: () => Promise<Run>): Promise<Run> {
  const runs: Run[] = [];
  for (let i = 0; i < times; i++) runs.push(await measure());
  runs.sort((a, b) => a.wall - b.wall);
  return runs[Math.floor(runs.length / 2)];
}

/**
 * A single 429 that is not a rate limit (a hiccup, or another client of the
 * account) must not pace the rest of the run, wherever it falls: 100
 * rotations with one stray 429 as the 2nd, 6th or 21st request, against the
 * same 100 with none; then 40 rotations one after another with a single slot
 * (`UPSTASH_API_MAX_CONCURRENCY=1`), the 6th request answered 429. Median of three.
 */
async function strayThrottle(emulator: UpstashEmulator): Promise<void> {
  console.log(
    `== Rotations after a single stray 429 (emulator: ${LATENCY_MS} ms latency, no rate limit)\n`,
  );
  const runs = 3;
  const latency: Fault = { kind: "latency", ms: LATENCY_MS };
  /** The API request after the first `after` is answered 429, once; every other one passes. */
  const stray = (after: number): Fault[] => [
    latency,
    { kind: "status", status: 429, times: 1, after, path: "^/v2/" },
  ];
  const rows: string[][] = [];
  const row = (kind: string, how: string, after: number, clean: Run, strayed: Run): string[] => [
    kind,
    how,
    String(after),
    fmt(clean.wall),
    fmt(strayed.wall),
    `${clean.requests} / ${strayed.requests}`,
    String(strayed.throttled),
    String(clean.failures + strayed.failures),
    (strayed.wall / clean.wall).toFixed(2),
  ];
  for (const kind of ["redis", "vector"] as const) {
    const clean = await medianRun(runs, () => rotations(emulator, kind, 100, [latency]));
    for (const after of [1, 5, 20]) {
      const strayed = await medianRun(runs, () => rotations(emulator, kind, 100, stray(after)));
      rows.push(row(kind, "100 at once", after, clean, strayed));
    }
  }
  const previous = process.env.UPSTASH_API_MAX_CONCURRENCY;
  process.env.UPSTASH_API_MAX_CONCURRENCY = "1";
  try {
    for (const kind of ["redis", "vector"] as const) {
      // Faults are used up as they apply: a fresh set for every run.
      const sequential = (faults: () => Fault[]) => () =>
        rotations(emulator, kind, 40, faults(), true);
      const clean = await medianRun(
        runs,
        sequential(() => [latency]),
      );
      const strayed = await medianRun(
        runs,
        sequential(() => stray(5)),
      );
      rows.push(row(kind, "40 one by one, 1 slot", 5, clean, strayed));
    }
  } finally {
    if (previous === undefined) delete process.env.UPSTASH_API_MAX_CONCURRENCY;
    else process.env.UPSTASH_API_MAX_CONCURRENCY = previous;
  }
  printTable(
    [
      "target",
      "rotations",
      "429 after",
      "no 429 (median of 3)",
      "one stray 429 (median of 3)",
      "API requests",
      "429s",
      "failures",
      "ratio",
    ],
    rows,
  );
}

/** One bare HTTP round trip with Node's own client, as the floor the provider is compared to. */
function rawRoundTrip(url: string, method: "GET" | "POST"): Promise<void> {
  const auth = Buffer.from(`${DEFAULT_ACCOUNT.email}:${DEFAULT_ACCOUNT.apiKey}`).toString("base64");
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method, headers: { Authorization: `Basic ${auth}` } },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    request.on("error", reject);
    request.end();
  });
}

async function overhead(emulator: UpstashEmulator): Promise<void> {
  console.log(
    "== Per-rotation overhead of the provider over the HTTP round trips it needs (no latency, no limit)\n",
  );
  const iterations = 300;
  const rows: string[][] = [];
  for (const kind of ["redis", "vector"] as const) {
    emulator.reset(DEFAULT_ACCOUNT);
    forgetSharedRequestGate();
    const id =
      kind === "redis" ? addRedis(emulator.data).database_id : addIndex(emulator.data, "vector").id;
    const target: RotationTarget =
      kind === "redis" ? { type: "redis", databaseId: id } : { type: "vector", indexId: id };
    // The round trips one rotation makes, as the emulator logged them (not assumed).
    emulator.log.length = 0;
    await createThroughProvider({ target, trigger: "round trips" });
    const trips = emulator.log.map((entry): [string, "GET" | "POST"] => [
      `${emulator.url}${entry.path}`,
      entry.method === "POST" ? "POST" : "GET",
    ]);

    const raw: number[] = [];
    const viaProvider: number[] = [];
    // Interleaved, after a warm-up, so both see the same JIT and server state.
    for (let i = 0; i < iterations + 20; i++) {
      let t = performance.now();
      for (const [url, method] of trips) await rawRoundTrip(url, method);
      const rawMs = performance.now() - t;
      t = performance.now();
      await createThroughProvider({ target, trigger: i });
      const providerMs = performance.now() - t;
      if (i >= 20) {
        raw.push(rawMs);
        viaProvider.push(providerMs);
      }
    }
    rows.push([
      kind,
      String(trips.length),
      fmt(median(raw)),
      fmt(median(viaProvider)),
      fmt(median(viaProvider) - median(raw)),
    ]);
  }
  printTable(["target", "round trips", "raw HTTP (median)", "provider (median)", "overhead"], rows);
}

/** Where the provider comes from: this repository's sources, or the package as npm installs it. */
interface Variant {
  name: string;
  provider: dynamic.ResourceProvider;
  resource: typeof CredentialRotation;
  /** A folder whose node_modules resolve what the serialized provider requires. */
  dir: string;
}

function variants(): Variant[] {
  const { projectDir, packageDir } = installPackedPackage();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const installed = require(packageDir) as typeof import("../provider");
  return [
    {
      name: "from source",
      provider: provider as dynamic.ResourceProvider,
      resource: CredentialRotation,
      dir: path.join(REPO_ROOT, ".pulumi-work", "bench"),
    },
    {
      name: "installed (npm pack)",
      provider: installed.credentialRotationProvider as dynamic.ResourceProvider,
      resource: installed.CredentialRotation,
      dir: projectDir,
    },
  ];
}

async function serializedSize(all: Variant[]): Promise<void> {
  console.log(
    "== The provider as stored in state (once in the inputs and once in the outputs of every resource)\n",
  );
  const rows: string[][] = [];
  for (const variant of all) {
    const { text } = await serializeProvider(variant.provider);
    // Load it in a fresh process each time, as the dynamic-provider host does on its first call.
    mkdirSync(variant.dir, { recursive: true });
    const file = path.join(variant.dir, "__provider.js");
    writeFileSync(file, text);
    const probe = `const { performance } = require("perf_hooks"); const t = performance.now(); require(${JSON.stringify(file)}).handler(); console.log(performance.now() - t);`;
    const loads = Array.from({ length: 7 }, () =>
      Number(
        execFileSync(process.execPath, ["-e", probe], {
          cwd: variant.dir,
          encoding: "utf8",
        }).trim(),
      ),
    );
    rows.push([
      variant.name,
      `${Buffer.byteLength(text)} bytes`,
      fmt(median(loads)),
      fmt(Math.min(...loads)),
      fmt(Math.max(...loads)),
    ]);
  }
  printTable(
    ["provider", "serialized size", "cold load + handler() (median of 7)", "min", "max"],
    rows,
  );
}

/** Size of the largest file in the backend folder: the stack's checkpoint. */
function checkpointBytes(backendDir: string): number {
  let largest = 0;
  for (const entry of readdirSync(backendDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".json") && !entry.parentPath.includes("backups")) {
      largest = Math.max(largest, statSync(path.join(entry.parentPath, entry.name)).size);
    }
  }
  return largest;
}

async function pulumiUp(emulator: UpstashEmulator, all: Variant[]): Promise<void> {
  console.log("== pulumi up (real CLI, local file backend, emulator without latency or limit)\n");
  const rows: string[][] = [];
  for (const variant of all) {
    for (const n of [1, 50]) {
      emulator.reset(DEFAULT_ACCOUNT);
      const ids = Array.from({ length: n }, () => addRedis(emulator.data).database_id);
      let trigger = "first";
      const { stack, backendDir } = await localStack({
        emulator,
        projectName: "bench",
        stackName: `n${n}`,
        workDir: variant.dir,
        program: async () => {
          ids.forEach(
            (databaseId, i) =>
              new variant.resource(`db-${i}`, { target: { type: "redis", databaseId }, trigger }),
          );
        },
      });
      let t = performance.now();
      await stack.up();
      const create = performance.now() - t;
      t = performance.now();
      await stack.up();
      const unchanged = performance.now() - t;
      trigger = "second";
      t = performance.now();
      await stack.up();
      const rotateAll = performance.now() - t;
      const checkpoint = checkpointBytes(backendDir);
      await stack.destroy();
      rows.push([
        variant.name,
        String(n),
        fmt(create),
        fmt(unchanged),
        fmt(rotateAll),
        `${(checkpoint / 1024).toFixed(0)} KiB`,
        String(emulator.rotations().length),
      ]);
    }
  }
  printTable(
    [
      "provider",
      "resources",
      "up (create)",
      "up (no change)",
      "up (rotate all)",
      "state file",
      "resets",
    ],
    rows,
  );
}

/** The value after `flag` on the command line (`--rounds 5` or `--rounds=5`). */
function argValue(flag: string): string | undefined {
  const args = process.argv.slice(2);
  const inline = args.find((arg) => arg.startsWith(`${flag}=`));
  if (inline) return inline.slice(flag.length + 1);
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const skipPulumi = process.argv.includes("--skip-pulumi");
  const cpus = os.cpus();
  console.log(
    `machine: ${cpus[0]?.model ?? "unknown CPU"} x ${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}\n`,
  );
  const emulator = await startEmulator();
  // A local API needs a local data plane too (the emulator serves one).
  Object.assign(process.env, emulatorEnvironment(emulator.url));
  process.env.UPSTASH_EMAIL = DEFAULT_ACCOUNT.email;
  process.env.UPSTASH_API_KEY = DEFAULT_ACCOUNT.apiKey;
  try {
    const engineOptions = {
      rounds: Number(argValue("--rounds") ?? 3),
      skipPlugin: process.argv.includes("--skip-plugin"),
    };
    if (process.argv.includes("--engine-only")) {
      await engineCost(emulator, engineOptions);
      return;
    }
    await concurrentRotations(emulator);
    await strayThrottle(emulator);
    await overhead(emulator);
    const all = variants();
    await serializedSize(all);
    if (!skipPulumi) {
      await pulumiUp(emulator, all);
      await engineCost(emulator, engineOptions);
    }
  } finally {
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

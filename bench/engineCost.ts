/**
 * Our cost inside the engine: `pulumi up` with the plain CLI rotating N
 * `CredentialRotation` resources (the package installed from its `npm pack`
 * tarball) beside N resources of a minimal no-op dynamic provider, in two
 * project folders on the same file backend. Both runs go through the same
 * engine, language host and dynamic-provider host, so the ratio is what this
 * package adds: the stored provider text, check/diff, and the Upstash calls.
 */
import { mkdirSync, statSync, writeFileSync } from "fs";
import path from "path";
import { performance } from "perf_hooks";
import { emulatorEnvironment, type UpstashEmulator } from "../emulator/server";
import { addRedis } from "../emulator/state";
import { packPackage, unpackIntoProject } from "../tests/harness/packedPackage";
import { PulumiUser } from "../tests/harness/pulumiCli";
import { checkoutPlugin } from "../tests/harness/pluginCheckout";
import { copyProject, makeTempRoot } from "../tests/harness/tempProject";
import { ensurePulumiCli, REPO_ROOT } from "../tests/harness/pulumiHarness";
import { printTable } from "../tests/harness/textTable";

const PROJECT_FILE = (name: string): string =>
  ["name: " + name, "runtime:", "  name: nodejs", "  options:", "    typescript: true", ""].join(
    "\n",
  );

/** A TypeScript project folder `<root>/<name>` running `program`. */
function projectFolder(root: string, name: string, program: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "Pulumi.yaml"), PROJECT_FILE(`bench-${name}`));
  writeFileSync(path.join(dir, "index.ts"), program);
  return dir;
}

/** N CredentialRotations of the installed package, one per database id. */
function rotationProgram(databaseIds: readonly string[]): string {
  return `import * as pulumi from "@pulumi/pulumi";
import { CredentialRotation } from "pulumi-upstash-credential-rotation";
const trigger = new pulumi.Config().require("trigger");
const ids: string[] = ${JSON.stringify(databaseIds)};
ids.forEach((databaseId, i) => new CredentialRotation(\`r\${i}\`, { target: { type: "redis", databaseId }, trigger }));
`;
}

/** N CredentialRotations through the provider plugin's generated TypeScript SDK. */
function pluginProgram(databaseIds: readonly string[]): string {
  return rotationProgram(databaseIds).replace(
    'from "pulumi-upstash-credential-rotation"',
    'from "pulumi-upstash-rotation"',
  );
}

/** N resources of a dynamic provider that does nothing but echo its inputs. */
function noopProgram(count: number): string {
  return `import * as pulumi from "@pulumi/pulumi";
const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) { return { id: String(inputs.name), outs: inputs }; },
  async diff(_id, olds, news) { return { changes: olds.trigger !== news.trigger }; },
  async update(_id, _olds, news) { return { outs: news }; },
};
class Noop extends pulumi.dynamic.Resource {
  constructor(name: string, trigger: string) {
    super(provider, name, { name, trigger }, {}, "noop", "Noop");
  }
}
const trigger = new pulumi.Config().require("trigger");
for (let i = 0; i < ${count}; i++) new Noop(\`n\${i}\`, trigger);
`;
}

/** One side's timed runs, in the order they ran. */
interface Runs {
  create: number[];
  rotate: number[];
  stateKiB: number;
}

/** What to measure, from the command line of `npm run bench -- --engine-only`. */
export interface EngineCostOptions {
  /** Resources per project. */
  count?: number;
  /** Timed rounds; each round runs every side once (create, rotate all, destroy). */
  rounds?: number;
  /** Leave out the provider plugin's side (its setup builds the plugin). */
  skipPlugin?: boolean;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * Prints the side-by-side table; returns the rotate-all ratio of the dynamic
 * provider to the no-op (medians). The provider plugin runs the same N
 * rotations through its generated TypeScript SDK (same language host), for
 * the plugin/dynamic ratio.
 *
 * Fairness: every side is set up first, then runs one untimed warm-up round
 * (the first `pulumi up` of a process tree reads the CLI, Node and TypeScript
 * from disk), then `rounds` timed rounds. Each round starts with a different
 * side, so no side always runs first or right after the same neighbour, and
 * the medians are compared: on a machine whose cores other work shares, single
 * runs differed by a third.
 */
export async function engineCost(
  emulator: UpstashEmulator,
  options: EngineCostOptions = {},
): Promise<number> {
  const count = options.count ?? 50;
  const rounds = options.rounds ?? 3;
  const root = makeTempRoot("bench-engine");
  const user = new PulumiUser({
    rootDir: root,
    cliDir: ensurePulumiCli(),
    env: {
      ...emulatorEnvironment(emulator.url),
      UPSTASH_EMAIL: emulator.data.account.email,
      UPSTASH_API_KEY: emulator.data.account.apiKey,
    },
  });
  unpackIntoProject(packPackage(path.join(root, "pack")), root);
  emulator.reset();
  const ids = Array.from({ length: count }, () => addRedis(emulator.data).database_id);

  /** Each project folder, written as its users would set it up. */
  const projects: Record<string, () => Promise<string>> = {
    rotation: async () => projectFolder(root, "rotation", rotationProgram(ids)),
    ...(options.skipPlugin
      ? {}
      : {
          plugin: async () => {
            const dir = copyProject(
              path.join(REPO_ROOT, "examples", "languages", "typescript"),
              path.join(root, "plugin"),
            );
            writeFileSync(path.join(dir, "index.ts"), pluginProgram(ids));
            await user.pulumi(dir, "install");
            await user.pulumi(dir, "package", "add", checkoutPlugin(root));
            return dir;
          },
        }),
    noop: async () => projectFolder(root, "noop", noopProgram(count)),
  };
  /** The project name each folder's Pulumi.yaml gives. */
  const projectName = (name: string): string =>
    name === "plugin" ? "rotation-typescript" : `bench-${name}`;
  const dirs: Record<string, string> = {};
  for (const [name, setUp] of Object.entries(projects)) {
    dirs[name] = await setUp();
    await user.pulumi(dirs[name], "stack", "init", `organization/${projectName(name)}/dev`);
  }
  const sides = Object.keys(dirs);
  const runs: Record<string, Runs> = Object.fromEntries(
    sides.map((name) => [name, { create: [], rotate: [], stateKiB: 0 }]),
  );
  /** `pulumi up` after setting the trigger: every resource is created, or rotated. */
  const up = async (name: string, trigger: string): Promise<number> => {
    await user.pulumi(dirs[name], "config", "set", "trigger", trigger);
    const started = performance.now();
    await user.pulumi(dirs[name], "up", "--yes", "--skip-preview");
    return performance.now() - started;
  };
  const resetsBefore = emulator.rotations().length;
  for (let round = -1; round < rounds; round++) {
    const first = Math.max(round, 0) % sides.length;
    for (const name of [...sides.slice(first), ...sides.slice(0, first)]) {
      const create = await up(name, `one-${round}`);
      const rotate = await up(name, `two-${round}`);
      if (round >= 0) {
        runs[name].create.push(create);
        runs[name].rotate.push(rotate);
        const checkpoint = path.join(
          user.backendDir,
          ".pulumi",
          "stacks",
          projectName(name),
          "dev.json",
        );
        runs[name].stateKiB = statSync(checkpoint).size / 1024;
      }
      await user.pulumi(dirs[name], "destroy", "--yes", "--skip-preview");
    }
  }
  const dynamicUps = (rounds + 1) * 2 * sides.filter((name) => name !== "noop").length;
  const resetsPerUp = (emulator.rotations().length - resetsBefore) / dynamicUps;
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const spread = (values: number[]): string =>
    `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
  console.log(
    `\n== pulumi up with the plain CLI: ${count} CredentialRotation (installed package) vs ${count} no-op dynamic resources, same backend; median of ${rounds} interleaved rounds after a warm-up (range in brackets)\n`,
  );
  const label: Record<string, string> = {
    rotation: "CredentialRotation (dynamic provider)",
    plugin: "CredentialRotation (provider plugin)",
    noop: "no-op dynamic",
  };
  const rows = sides.map((name) => [
    label[name],
    spread(runs[name].create),
    spread(runs[name].rotate),
    `${runs[name].stateKiB.toFixed(0)} KiB`,
  ]);
  printTable(["resources", "up (create)", "up (rotate all)", "checkpoint"], rows);
  const ratio = (of: string, to: string, phase: "create" | "rotate"): number =>
    median(runs[of][phase]) / median(runs[to][phase]);
  /** The ratio within each round (same minute, same neighbours), for how much it varies. */
  const perRound = (phase: "create" | "rotate"): string =>
    runs.rotation[phase].map((ms, i) => (ms / runs.noop[phase][i]).toFixed(2)).join(", ");
  const rotateRatio = ratio("rotation", "noop", "rotate");
  console.log(
    `ratio rotate-all: ${rotateRatio.toFixed(2)} (goal <= 1.15; per round ${perRound("rotate")}); create: ${ratio("rotation", "noop", "create").toFixed(2)} (per round ${perRound("create")}); resets per up: ${resetsPerUp.toFixed(0)}`,
  );
  if (runs.plugin) {
    console.log(
      `plugin / dynamic provider, rotate-all: ${ratio("plugin", "rotation", "rotate").toFixed(2)} (goal <= 1.00); create: ${ratio("plugin", "rotation", "create").toFixed(2)}`,
    );
  }
  return rotateRatio;
}

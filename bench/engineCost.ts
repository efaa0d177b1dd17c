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

interface Timing {
  create: number;
  rotate: number;
  stateKiB: number;
}

/**
 * Prints the side-by-side table; returns the rotate-all ratio of the dynamic
 * provider to the no-op. The provider plugin runs the same N rotations through
 * its generated TypeScript SDK (same language host), for the plugin/dynamic ratio.
 */
export async function engineCost(emulator: UpstashEmulator, count = 50): Promise<number> {
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

  const pluginDir = checkoutPlugin(root);
  /** Each project folder, written as its users would set it up. */
  const projects: Record<string, () => Promise<string>> = {
    rotation: async () => projectFolder(root, "rotation", rotationProgram(ids)),
    plugin: async () => {
      const dir = copyProject(
        path.join(REPO_ROOT, "examples", "languages", "typescript"),
        path.join(root, "plugin"),
      );
      writeFileSync(path.join(dir, "index.ts"), pluginProgram(ids));
      await user.pulumi(dir, "install");
      await user.pulumi(dir, "package", "add", pluginDir);
      return dir;
    },
    noop: async () => projectFolder(root, "noop", noopProgram(count)),
  };
  const timings: Record<string, Timing> = {};
  /** The project name each folder's Pulumi.yaml gives. */
  const projectName = (name: string): string =>
    name === "plugin" ? "rotation-typescript" : `bench-${name}`;
  for (const [name, setUp] of Object.entries(projects)) {
    const dir = await setUp();
    await user.pulumi(dir, "stack", "init", `organization/${projectName(name)}/dev`);
    const up = async (trigger: string): Promise<number> => {
      await user.pulumi(dir, "config", "set", "trigger", trigger);
      const started = performance.now();
      await user.pulumi(dir, "up", "--yes", "--skip-preview");
      return performance.now() - started;
    };
    const create = await up("one");
    const rotate = await up("two");
    const checkpoint = path.join(
      user.backendDir,
      ".pulumi",
      "stacks",
      projectName(name),
      "dev.json",
    );
    timings[name] = { create, rotate, stateKiB: statSync(checkpoint).size / 1024 };
    await user.pulumi(dir, "destroy", "--yes", "--skip-preview");
  }
  const resets = emulator.rotations().length;
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(
    `\n== pulumi up with the plain CLI: ${count} CredentialRotation (installed package) vs ${count} no-op dynamic resources, same backend\n`,
  );
  const label: Record<string, string> = {
    rotation: "CredentialRotation (dynamic provider)",
    plugin: "CredentialRotation (provider plugin)",
    noop: "no-op dynamic",
  };
  const rows = Object.entries(timings).map(([name, t]) => [
    label[name],
    fmt(t.create),
    fmt(t.rotate),
    `${t.stateKiB.toFixed(0)} KiB`,
  ]);
  const ratio = timings.rotation.rotate / timings.noop.rotate;
  printTable(["resources", "up (create)", "up (rotate all)", "checkpoint"], rows);
  console.log(
    `\nratio rotate-all: ${ratio.toFixed(2)} (goal <= 1.15); create: ${(timings.rotation.create / timings.noop.create).toFixed(2)}; resets made: ${resets}`,
  );
  console.log(
    `plugin / dynamic provider, rotate-all: ${(timings.plugin.rotate / timings.rotation.rotate).toFixed(2)} (goal <= 1.00); create: ${(timings.plugin.create / timings.rotation.create).toFixed(2)}`,
  );
  return ratio;
}

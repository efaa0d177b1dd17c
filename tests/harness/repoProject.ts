import assert from "assert";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "fs";
import path from "path";
import { REPO_ROOT } from "./pulumiHarness";
import { CliError } from "./cli";
import type { PulumiUser } from "./pulumiCli";
import { copyProject } from "./tempProject";

/** The key marking a secret in a serialized property (`pulumi.runtime.specialSigKey`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A Node.js stack trace line (`    at fn (file.js:1:2)`): never shown to a user. */
export const STACK_TRACE = /^\s+at .+:\d+:\d+\)?$/m;

/**
 * Copies `examples/<name>` to `<rootDir>/examples/<name>` and links
 * `<rootDir>/provider` to this repository's provider/, so the example's
 * `import … from "../../provider"` resolves as it does in the repository.
 *
 * Why a copy with a link rather than the alternatives: running in
 * examples/<name> itself would write `Pulumi.<stack>.yaml` into the
 * repository (and clash with anyone else running the suite); rewriting the
 * import in the copy would run a program that differs from the example. This
 * way the example's files run byte for byte, the stack config lands in the
 * copy, and Node resolves the link to the real provider/ folder, so the
 * provider and the program share the repository's one `@pulumi/pulumi`
 * (found from `.pulumi-work/` upwards, as from examples/).
 */
export function copyExample(name: string, rootDir: string): string {
  const link = path.join(rootDir, "provider");
  if (!existsSync(link)) symlinkSync(path.join(REPO_ROOT, "provider"), link, "dir");
  return copyProject(path.join(REPO_ROOT, "examples", name), path.join(rootDir, "examples", name));
}

/**
 * Writes a TypeScript Pulumi project (`Pulumi.yaml` and `index.ts`) into
 * `dir`. `program` may import the repository's provider as `@provider` (the
 * path is put in relative to `dir`, so the project must stay inside the
 * repository, e.g. under `.pulumi-work/`). `main: index.ts`: otherwise the
 * Node.js language host runs the `main` of the repository's package.json.
 */
export function writeProject(dir: string, name: string, program: string): string {
  mkdirSync(dir, { recursive: true });
  const provider = path.relative(dir, path.join(REPO_ROOT, "provider")).split(path.sep).join("/");
  writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    [
      `name: ${name}`,
      "runtime:",
      "  name: nodejs",
      "  options:",
      "    typescript: true",
      "main: index.ts",
      "",
    ].join("\n"),
  );
  writeFileSync(path.join(dir, "index.ts"), program.replaceAll('"@provider"', `"${provider}"`));
  return dir;
}

/**
 * Both streams of a CLI command that must fail; fails the test if it
 * succeeded. `commands` (e.g. `PulumiUser.commands`, which lists only the
 * commands that succeeded) gets the failed command and its wall time.
 */
export async function cliFailure(
  run: Promise<unknown>,
  commands?: { command: string; ms: number }[],
): Promise<string> {
  try {
    await run;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    const command = /^`(\S+ [^\s`]+)/.exec(error.message)?.[1] ?? "command";
    commands?.push({ command: `${command} (failed)`, ms: error.result.ms });
    return `${error.result.stdout}\n${error.result.stderr}`;
  }
  assert.fail("the command succeeded but was expected to fail");
}

/** One resource of `pulumi stack export --show-secrets`, secrets decoded. */
export interface ExportedResource {
  urn: string;
  type: string;
  /** The last part of the URN. */
  name: string;
  outputs: Record<string, unknown>;
}

/** A secret in an exported deployment (`--show-secrets`) holds its value as JSON text. */
export function reveal(value: unknown): unknown {
  if (value && typeof value === "object" && SECRET_SIG in value) {
    return JSON.parse((value as unknown as { plaintext: string }).plaintext) as unknown;
  }
  return value;
}

/** The resources in state, as `pulumi stack export --show-secrets` in `dir` shows them. */
export async function exportedResources(
  user: PulumiUser,
  dir: string,
  ...stackArgs: string[]
): Promise<ExportedResource[]> {
  const exported = await user.pulumiJson<{
    deployment: { resources?: { urn: string; type: string; outputs?: Record<string, unknown> }[] };
  }>(dir, "stack", "export", "--show-secrets", ...stackArgs);
  return (exported.deployment.resources ?? []).map((resource) => {
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource.outputs ?? {})) outputs[key] = reveal(value);
    return {
      urn: resource.urn,
      type: resource.type,
      name: resource.urn.split("::").pop() ?? "",
      outputs,
    };
  });
}

/** `pulumi up 5× 61.2 s, pulumi config 12× 9.8 s, …`: where a suite's CLI time went. */
export function commandTimes(commands: readonly { command: string; ms: number }[]): string {
  const groups = new Map<string, { count: number; ms: number }>();
  for (const { command, ms } of commands) {
    const verb = command.replace(/^(\S+ (?:stack \S+|\S+)).*?( \(failed\))?$/, "$1$2");
    const group = groups.get(verb) ?? { count: 0, ms: 0 };
    group.count++;
    group.ms += ms;
    groups.set(verb, group);
  }
  const total = commands.reduce((sum, c) => sum + c.ms, 0);
  return [
    `${commands.length} commands, ${(total / 1000).toFixed(1)} s`,
    ...[...groups]
      .sort(([, a], [, b]) => b.ms - a.ms)
      .map(([verb, g]) => `${verb} ${g.count}× ${(g.ms / 1000).toFixed(1)} s`),
  ].join(", ");
}

/**
 * The end of a suite that ran in `workRoot`: prints where the CLI time went,
 * then removes the folder when every test of `suite` passed (and `keepVariable`
 * is not set), or says where it was kept for a look.
 */
export function finishWorkRoot(
  suite: Mocha.Suite | undefined,
  user: PulumiUser | undefined,
  workRoot: string | undefined,
  keepVariable: string,
): void {
  if (user) console.log(`      CLI time: ${commandTimes(user.commands)}`);
  if (!workRoot) return;
  let everyTestPassed = true;
  suite?.eachTest((test) => {
    if (test.state !== "passed") everyTestPassed = false;
  });
  if (everyTestPassed && !process.env[keepVariable]) {
    rmSync(workRoot, { recursive: true, force: true });
  } else {
    console.log(`      (work folder kept: ${path.relative(REPO_ROOT, workRoot)})`);
  }
}

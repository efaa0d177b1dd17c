import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import { LocalWorkspace, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { emulatorEnvironment, type UpstashEmulator } from "../../emulator/server";
import { PulumiUser } from "./pulumiCli";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** What a test's Pulumi run needs to talk to `emulator`, with retries fast enough for tests. */
const againstEmulator = (emulator: UpstashEmulator): Record<string, string> => ({
  ...emulatorEnvironment(emulator.url),
  UPSTASH_API_RETRY_BASE_MS: "50",
});

/** A plain-CLI Pulumi user under `rootDir` whose programs talk to `emulator`. */
export function emulatorUser(
  emulator: UpstashEmulator,
  rootDir: string,
  pathFirst: string[] = [],
): PulumiUser {
  return new PulumiUser({
    rootDir,
    cliDir: ensurePulumiCli(),
    pathFirst,
    env: againstEmulator(emulator),
  });
}

/** Found once per process: every stack of a suite uses the same CLI. */
let cliDir: string | undefined;

/** The Pulumi CLI folder: from PATH, or built once from Go modules (scripts/ensure-pulumi.sh). */
export function ensurePulumiCli(): string {
  if (cliDir) return cliDir;
  const output = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "ensure-pulumi.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = output.trim().split("\n");
  cliDir = lines[lines.length - 1];
  return cliDir;
}

export interface LocalStackOptions {
  emulator: UpstashEmulator;
  projectName: string;
  stackName: string;
  program: PulumiFn;
  /**
   * Folder the workspace writes its Pulumi.yaml and stack config into, and the
   * dynamic provider resolves packages from: a folder under `.pulumi-work/`
   * by default, so the repository's own Pulumi.yaml is never rewritten.
   */
  workDir?: string;
  /** Backend folder; a fresh temp folder when absent. */
  backendDir?: string;
  /** Set `upstash:email`/`upstash:apiKey` to the emulator's account (default true). */
  configureCredentials?: boolean;
}

/**
 * A stack on a local file backend with passphrase secrets, pointed at the
 * emulator. Inline programs run inside this Node process, so no Node.js
 * language host is needed, only the CLI and the dynamic-provider plugin.
 */
export async function localStack(
  options: LocalStackOptions,
): Promise<{ stack: Stack; backendDir: string }> {
  const cliDir = ensurePulumiCli();
  const backendDir = options.backendDir ?? mkdtempSync(path.join(tmpdir(), "pulumi-backend-"));
  const workDir =
    options.workDir ??
    path.join(REPO_ROOT, ".pulumi-work", `${options.projectName}-${options.stackName}`);
  // Stack config files from an earlier run would leak into this fresh backend.
  if (!options.workDir) rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const envVars: Record<string, string> = {
    PATH: `${cliDir}${path.delimiter}${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "local-emulator-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_HOME: path.join(backendDir, ".pulumi-home"),
    ...againstEmulator(options.emulator),
  };
  process.env.PATH = envVars.PATH;
  const stack = await LocalWorkspace.createOrSelectStack(
    {
      projectName: options.projectName,
      stackName: `organization/${options.projectName}/${options.stackName}`,
      program: options.program,
    },
    {
      workDir,
      envVars,
      projectSettings: {
        name: options.projectName,
        runtime: "nodejs",
        backend: { url: `file://${backendDir}` },
      },
    },
  );
  if (options.configureCredentials ?? true) {
    await stack.setAllConfig({
      "upstash:email": { value: options.emulator.data.account.email },
      "upstash:apiKey": { value: options.emulator.data.account.apiKey, secret: true },
    });
  }
  return { stack, backendDir };
}

/**
 * A Pulumi project folder's entry module run as an inline program, the way the
 * Node.js language host runs it: the module's top level registers resources,
 * its exports become stack outputs, and an exported function is called.
 * Loaded afresh on every run so each `up` sees the current config.
 */
export function projectProgram(projectDir: string): PulumiFn {
  const entry = require.resolve(path.resolve(projectDir, "index.ts"));
  return async () => {
    Reflect.deleteProperty(require.cache, entry);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded: unknown = require(entry);
    if (typeof loaded === "function") return (await (loaded as () => unknown)()) as never;
    return { ...(loaded as Record<string, unknown>) };
  };
}

/**
 * `pulumi stack export` as a user runs it, without `--show-secrets` (the
 * Automation API's `exportStack()` always decrypts).
 */
export function plainStackExport(stack: Stack): string {
  const workspace = stack.workspace as LocalWorkspace;
  return execFileSync("pulumi", ["stack", "export", "--stack", stack.name], {
    cwd: workspace.workDir,
    env: { ...process.env, ...workspace.envVars },
    encoding: "utf8",
    // Each resource stores the provider text twice: from sources that is over 1 MB for a few.
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Files under `dir` whose bytes contain any of `secrets` (state, backups, history, locks). */
export function filesContaining(dir: string, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const content = readFileSync(file);
    if (secrets.some((secret) => content.includes(secret))) hits.push(file);
  }
  return hits;
}

import { mkdirSync, readdirSync, readFileSync } from "fs";
import path from "path";
import { commandEnvironment, runCli, type CliResult } from "./cli";

export interface PulumiUserOptions {
  /** Folder for the file backend (`backend/`) and PULUMI_HOME (`.pulumi-home/`). */
  rootDir: string;
  /** The folder holding `pulumi` and `pulumi-language-nodejs` (scripts/ensure-pulumi.sh). */
  cliDir: string;
  /** Put in front of the CLI folder on PATH, e.g. another Node's bin folder. */
  pathFirst?: readonly string[];
  /** More variables; `undefined` removes one. */
  env?: Record<string, string | undefined>;
}

/** One `pulumi stack history --json` entry (the fields the tests read). */
export interface HistoryEntry {
  kind: string;
  result: string;
  resourceChanges?: Record<string, number>;
  /** E.g. `runtime.version` (the Node.js that ran the program), `pulumi.version`. */
  environment?: Record<string, string>;
}

/**
 * The Pulumi CLI as a user on a self-managed file backend runs it: plain
 * `pulumi …` commands in a project folder, with the passphrase secrets
 * provider, a PULUMI_HOME of its own and no update check. Upstash management
 * credentials from the user's environment are removed, so only what the test
 * configures counts.
 */
export class PulumiUser {
  readonly backendDir: string;
  readonly pulumiHome: string;
  readonly env: NodeJS.ProcessEnv;
  /** Every command run, with its wall time, for the report. */
  readonly commands: { command: string; ms: number }[] = [];

  constructor(options: PulumiUserOptions) {
    this.backendDir = path.join(options.rootDir, "backend");
    this.pulumiHome = path.join(options.rootDir, ".pulumi-home");
    mkdirSync(this.backendDir, { recursive: true });
    this.env = commandEnvironment(
      {
        PULUMI_BACKEND_URL: `file://${this.backendDir}`,
        PULUMI_CONFIG_PASSPHRASE: "quickstart-passphrase",
        PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
        PULUMI_HOME: this.pulumiHome,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_ACCESS_TOKEN: undefined,
        PULUMI_NODEJS_TRANSPILE_ONLY: undefined,
        UPSTASH_EMAIL: undefined,
        UPSTASH_API_KEY: undefined,
        ...options.env,
      },
      [...(options.pathFirst ?? []), options.cliDir],
    );
  }

  /** `pulumi args…` in `dir`. */
  async pulumi(dir: string, ...args: string[]): Promise<CliResult> {
    const result = await runCli("pulumi", args, { cwd: dir, env: this.env, timeoutMs: 300_000 });
    this.commands.push({ command: `pulumi ${args.join(" ")}`, ms: result.ms });
    return result;
  }

  /**
   * The Upstash management credentials as a user sets them: `pulumi config set`
   * of `upstash:email`, and of `upstash:apiKey` with `--secret`, for the stack
   * selected in `dir`.
   */
  async setManagementCredentials(
    dir: string,
    account: { email: string; apiKey: string },
  ): Promise<void> {
    await this.pulumi(dir, "config", "set", "upstash:email", account.email);
    await this.pulumi(dir, "config", "set", "--secret", "upstash:apiKey", account.apiKey);
  }

  /** `pulumi args…` in `dir`, its stdout parsed as JSON. */
  async pulumiJson<T>(dir: string, ...args: string[]): Promise<T> {
    return JSON.parse((await this.pulumi(dir, ...args)).stdout) as T;
  }

  /** Any other command (`npm`, `node`) with the same environment. */
  run(
    dir: string,
    command: string,
    args: readonly string[],
    timeoutMs = 600_000,
  ): Promise<CliResult> {
    return runCli(command, args, { cwd: dir, env: this.env, timeoutMs });
  }

  /** The newest `pulumi stack history` entry of the stack selected in `dir`. */
  async lastOperation(dir: string): Promise<HistoryEntry> {
    const history = await this.pulumiJson<HistoryEntry[]>(dir, "stack", "history", "--json");
    if (history.length === 0) throw new Error(`no history for the stack in ${dir}`);
    return history[0]; // newest first
  }

  /** The file backend's checkpoint of `organization/<project>/<stack>`, parsed. */
  checkpoint(project: string, stack: string): Checkpoint {
    const file = path.join(this.backendDir, ".pulumi", "stacks", project, `${stack}.json`);
    return JSON.parse(readFileSync(file, "utf8")) as Checkpoint;
  }

  /** Stack config files (`Pulumi.<stack>.yaml`) under `dir`, outside node_modules. */
  static stackConfigFiles(dir: string): string[] {
    const found: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules") {
        found.push(...PulumiUser.stackConfigFiles(full));
      } else if (entry.isFile() && /^Pulumi\..+\.yaml$/.test(entry.name)) {
        found.push(full);
      }
    }
    return found;
  }
}

/** The parts of a file-backend checkpoint the tests read. */
export interface Checkpoint {
  checkpoint: {
    latest?: {
      resources?: {
        urn: string;
        type: string;
        inputs?: Record<string, unknown>;
        outputs?: Record<string, unknown>;
      }[];
    };
  };
}

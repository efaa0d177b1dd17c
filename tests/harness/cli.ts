import { spawn } from "child_process";
import path from "path";

export interface CliResult {
  stdout: string;
  stderr: string;
  /** Wall time of the command, in milliseconds. */
  ms: number;
}

export interface CliOptions {
  /** Folder the command runs in. */
  cwd: string;
  /** The whole environment of the command (not merged with this process's). */
  env: NodeJS.ProcessEnv;
  /** Killed (and rejected) after this long; default 5 minutes. */
  timeoutMs?: number;
  /** Written to the command's standard input, which is then closed. */
  input?: string;
}

/** Thrown for a non-zero exit: carries the command's output for the test report. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly result: CliResult & { code: number | null },
  ) {
    super(message);
    this.name = "CliError";
  }
}

/**
 * Runs `command args…` in `cwd` with exactly `env`, asynchronously, so that an
 * emulator served by this process keeps answering while the command runs.
 * Resolves with its output; rejects with a {@link CliError} holding the last
 * lines of both streams when it exits non-zero or times out.
 */
export function runCli(
  command: string,
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, options.timeoutMs ?? 300_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        ms: Date.now() - started,
      };
      if (code === 0 && !timedOut) {
        resolve(result);
        return;
      }
      const tail = (text: string) => text.trimEnd().split("\n").slice(-40).join("\n");
      const why = timedOut ? `timed out after ${result.ms} ms` : `exited with ${code}`;
      reject(
        new CliError(
          `\`${[command, ...args].join(" ")}\` in ${options.cwd} ${why}\n` +
            `--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`,
          { ...result, code },
        ),
      );
    });
    // A command that exits before reading its input (`node --version`) closes the pipe first:
    // the EPIPE is no failure of the command, whose exit code and output tell what happened.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * What `npm run`/`npx` add to a script's environment: their config (with
 * `local_prefix` = this repository) and the Node that started them, for npm
 * and node-gyp. A user's shell has none of it; npm reads the user's config
 * files itself.
 */
const NPM_SCRIPT_VARIABLE = /^(npm_|INIT_CWD$|NODE$|TS_NODE_)/i;

/**
 * This process's environment as a user's shell would have it (without the
 * variables `npx`/`npm run` add, nor `node_modules/.bin` folders on PATH),
 * with `overrides` applied (an `undefined` value removes a variable) and the
 * `pathFirst` folders put in front of PATH.
 */
export function commandEnvironment(
  overrides: Record<string, string | undefined>,
  pathFirst: readonly string[] = [],
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!NPM_SCRIPT_VARIABLE.test(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const inherited = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir && !dir.split(path.sep).includes("node_modules"));
  env.PATH = [...pathFirst, ...inherited].join(path.delimiter);
  return env;
}

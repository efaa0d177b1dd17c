import { DEFAULT_ACCOUNT, FIXTURE_IDS, type EmulatorAccount } from "./state";
import { dataPlaneUrl, emulatorEnvironment, startEmulator } from "./server";

const USAGE = `Usage: npm run emulator -- [--port N] [--host H] [--email E] [--api-key K]

Serves a local Upstash Developer API until interrupted. Each flag can also be
set through the environment: EMULATOR_PORT (default 8787; 0 picks a free port),
EMULATOR_HOST (default 127.0.0.1), EMULATOR_EMAIL and EMULATOR_API_KEY (the
Basic auth account, default ${DEFAULT_ACCOUNT.email} / ${DEFAULT_ACCOUNT.apiKey}).
Flags win over the environment.`;

export interface CliOptions {
  port: number;
  host: string;
  account: EmulatorAccount;
}

const FLAGS = {
  "--port": "EMULATOR_PORT",
  "--host": "EMULATOR_HOST",
  "--email": "EMULATOR_EMAIL",
  "--api-key": "EMULATOR_API_KEY",
} as const;

/**
 * Reads `--flag value` / `--flag=value` from `argv`, else `EMULATOR_*` from
 * `env`. It never reads `UPSTASH_EMAIL`/`UPSTASH_API_KEY`: those may hold a
 * real account's key, which the emulator prints.
 */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const values: Record<string, string | undefined> = {};
  for (const [flag, name] of Object.entries(FLAGS)) values[flag] = env[name];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!(flag in FLAGS)) throw new Error(`unknown option ${argv[i]}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new Error(`${flag} needs a value`);
    values[flag] = value;
  }
  const port = Number(values["--port"] ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`the port must be an integer from 0 to 65535, not ${values["--port"]}`);
  }
  return {
    port,
    host: values["--host"] || "127.0.0.1",
    account: {
      email: values["--email"] || DEFAULT_ACCOUNT.email,
      apiKey: values["--api-key"] || DEFAULT_ACCOUNT.apiKey,
    },
  };
}

/** The start-up banner: how to point a program at the emulator, and what it holds. */
export function banner(url: string, account: EmulatorAccount): string {
  return [
    "Upstash Developer API emulator. Point a program at it with:",
    ...Object.entries(emulatorEnvironment(url)).map(([name, value]) => `  ${name}=${value}`),
    `  UPSTASH_EMAIL=${account.email}`,
    `  UPSTASH_API_KEY=${account.apiKey}`,
    "Fixtures (reset by POST /_emulator/reset):",
    ...Object.entries(FIXTURE_IDS).map(([kind, id]) => `  ${kind.padEnd(6)} ${id}`),
    "Add a target (answers it, credentials included):",
    `  curl -X POST ${url}/_emulator/targets -d '{"type":"redis"}'   # or vector, search, qstash`,
    "Data planes (Bearer auth; each target's hosts: GET /_emulator/data-plane):",
    `  ${dataPlaneUrl(url)}/<host>/...   # what would go to https://<host>/...`,
    "Redis protocol of every database (AUTH picks it by password; ACL users too):",
    `  ${url.replace(/^http:/, "redis:")}`,
  ].join("\n");
}

/** `npm run emulator [-- --port N ...]`: serves the emulator until interrupted. */
async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  let options: CliOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const emulator = await startEmulator(options);
  // First line is the URL, so scripts can read it; the rest goes to stderr.
  console.log(emulator.url);
  console.error(banner(emulator.url, emulator.data.account));
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`emulator: ${(error as Error).message}`);
    process.exit(1);
  });
}

/**
 * The main job (`npm run demo`): starts the Upstash API emulator and runs the
 * plain Pulumi CLI in this folder, as a user runs it in a project: `pulumi up`
 * of the root program (Pulumi.yaml, index.ts, program.ts), a trigger bump,
 * then `pulumi destroy`. It prints one line per engine event, then shows that
 * the rotated credentials work while the old ones are rejected and that no
 * file holds a secret in plaintext.
 */
import { readFileSync, rmSync } from "fs";
import path from "path";
import { emulatorEnvironment, dataPlaneStatus, startEmulator } from "../emulator/server";
import { makeTempRoot } from "../tests/harness/tempProject";
import { PulumiUser } from "../tests/harness/pulumiCli";
import { ensurePulumiCli, filesContaining, REPO_ROOT } from "../tests/harness/pulumiHarness";

const STACK = "organization/upstash-credential-rotation/demo";
const STACK_CONFIG = path.join(REPO_ROOT, "Pulumi.demo.yaml");

const mask = (secret: string): string => `${secret.slice(0, 4)}…(${secret.length} chars)`;

/** One engine event of `pulumi up --json` (one JSON object a line), the fields printed here. */
interface EngineEvent {
  resOutputsEvent?: { metadata: { op: string; urn: string } };
  diagnosticEvent?: { severity: string; message: string; urn?: string };
  summaryEvent?: { durationSeconds: number; resourceChanges: Record<string, number> };
}

/** `pulumi-nodejs:dynamic/upstash:CredentialRotation::redis` → `CredentialRotation redis`. */
function resourceName(urn: string): string {
  const [type, name] = urn.split("::").slice(-2);
  return `${type.split(":").pop()} ${name}`;
}

/** Prints a command's engine events, one line each: what happened to which resource, and when. */
function printEvents(jsonLines: string): void {
  const events = jsonLines
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as EngineEvent);
  for (const event of events) {
    const done = event.resOutputsEvent?.metadata;
    if (done && !done.urn.includes("pulumi:pulumi:Stack")) {
      console.log(`  ${done.op.padEnd(7)} ${resourceName(done.urn)}`);
    }
    const diagnostic = event.diagnosticEvent;
    if (diagnostic && (diagnostic.severity === "error" || diagnostic.severity === "warning")) {
      console.log(`  ${diagnostic.severity}: ${diagnostic.message.trim()}`);
    }
    const summary = event.summaryEvent;
    if (summary) {
      const changes = Object.entries(summary.resourceChanges)
        .map(([op, count]) => `${count} ${op}`)
        .join(", ");
      console.log(`  done in ${summary.durationSeconds} s: ${changes}`);
    }
  }
}

async function main(): Promise<void> {
  const cliDir = ensurePulumiCli();
  const emulator = await startEmulator();
  const workDir = makeTempRoot("demo");
  const user = new PulumiUser({
    rootDir: workDir,
    cliDir,
    env: emulatorEnvironment(emulator.url),
  });
  /** `pulumi <args> --json` in this folder (engine events as JSON lines), printing its events. */
  const run = async (title: string, ...args: string[]): Promise<void> => {
    console.log(`\n== ${title}`);
    let events = "";
    try {
      events = (await user.pulumi(REPO_ROOT, ...args, "--yes", "--skip-preview", "--json")).stdout;
    } catch (error) {
      events = (error as { result?: { stdout?: string } }).result?.stdout ?? "";
      throw error;
    } finally {
      printEvents(events);
    }
  };
  const outputs = async (): Promise<Record<string, unknown>> =>
    user.pulumiJson(REPO_ROOT, "stack", "output", "--json", "--show-secrets");
  const redisToken = (all: Record<string, unknown>): string =>
    (all.redisEnv as Record<string, string>).UPSTASH_REDIS_REST_TOKEN;

  console.log(`emulator: ${emulator.url}    backend: ${user.backendDir}`);
  rmSync(STACK_CONFIG, { force: true });
  try {
    await user.pulumi(REPO_ROOT, "stack", "init", STACK);
    await user.setManagementCredentials(REPO_ROOT, emulator.data.account);
    await user.pulumi(REPO_ROOT, "config", "set", "trigger", "initial");

    await run("pulumi up (the first rotation of every target)", "up");
    const firstToken = redisToken(await outputs());

    await user.pulumi(REPO_ROOT, "config", "set", "trigger", `bumped-${Date.now()}`);
    await run("pulumi up with the trigger bumped (rotates in place)", "up");
    const second = await outputs();
    const secondToken = redisToken(second);
    const masked = await user.pulumiJson<Record<string, unknown>>(
      REPO_ROOT,
      "stack",
      "output",
      "--json",
    );

    console.log("\n== results");
    console.log(`resets made by the two runs: ${emulator.rotations().length} (4 targets x 2)`);
    console.log(`rotation counts: ${JSON.stringify(second.rotationCounts)}`);
    console.log(
      `outputs shown as [secret] without --show-secrets: ${Object.entries(masked)
        .filter(([, value]) => value === "[secret]")
        .map(([name]) => name)
        .join(", ")}`,
    );
    console.log(
      `old Redis REST token ${mask(firstToken)}: the emulator answers ${await dataPlaneStatus(emulator.url, firstToken)}`,
    );
    console.log(
      `new Redis REST token ${mask(secondToken)}: the emulator answers ${await dataPlaneStatus(emulator.url, secondToken)}`,
    );
    const secrets = [emulator.data.account.apiKey, firstToken, secondToken];
    const leaking = filesContaining(user.backendDir, secrets);
    const config = readFileSync(STACK_CONFIG, "utf8");
    const configLeaks = secrets.filter((secret) => config.includes(secret));
    console.log(
      `files holding a plaintext secret: ${leaking.length} in the backend folder, ${configLeaks.length} in Pulumi.demo.yaml`,
    );

    const before = emulator.rotations().length;
    await run("pulumi destroy (the QStash rotation has onDelete: rotate)", "destroy");
    console.log(`resets made by destroy: ${emulator.rotations().length - before}`);
  } finally {
    await user.pulumi(REPO_ROOT, "stack", "rm", "--yes", "--force", STACK).catch(() => undefined);
    rmSync(STACK_CONFIG, { force: true });
    rmSync(workDir, { recursive: true, force: true });
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

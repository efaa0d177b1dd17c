/**
 * The main job (`npm run demo`): starts the Upstash API emulator and runs the
 * plain Pulumi CLI in this folder, as a user runs it in a project: `pulumi up`
 * of the root program (Pulumi.yaml, index.ts, program.ts), a trigger bump,
 * then `pulumi destroy`. It prints one line per engine event, then shows that
 * the rotated credentials work while the old ones are rejected, how many
 * requests of a consumer failed across the rotation with a reset and with an
 * ACL user's overlap, that a receiver holding the previous signing keys still
 * verifies, and that no file holds a secret in plaintext. It exits non-zero
 * when any of these promises is broken, so it stays a check.
 */
import { qstashSignature } from "../emulator/qstashSignature";
import { readFileSync, rmSync } from "fs";
import path from "path";
import { setTimeout as sleep } from "timers/promises";
import { Receiver } from "@upstash/qstash";
import {
  emulatorEnvironment,
  dataPlaneStatus,
  startEmulator,
  type UpstashEmulator,
} from "../emulator/server";
import { addRedis, FIXTURE_IDS } from "../emulator/state";
import { makeTempRoot } from "../tests/harness/tempProject";
import { PulumiUser } from "../tests/harness/pulumiCli";
import { ensurePulumiCli, filesContaining, REPO_ROOT } from "../tests/harness/pulumiHarness";
import { printTable } from "../tests/harness/textTable";
import { ConsumerLoop } from "../tests/helpers/consumerLoop";
import { pingStatus } from "../tests/helpers/dataPlane";

const STACK = "organization/upstash-credential-rotation/demo";
const STACK_CONFIG = path.join(REPO_ROOT, "Pulumi.demo.yaml");

const mask = (secret: string): string => `${secret.slice(0, 4)}…(${secret.length} chars)`;
const count = (n: number): string => n.toLocaleString("en-US");
const percent = (part: number, whole: number): string =>
  whole === 0 ? "–" : `${((100 * part) / whole).toFixed(1)}%`;

/** Whether a receiver holding `keys` accepts a message signed with `signingKey`. */
async function verifies(keys: SigningKeysEnv, signingKey: string): Promise<boolean> {
  const receiver = new Receiver({
    currentSigningKey: keys.QSTASH_CURRENT_SIGNING_KEY,
    nextSigningKey: keys.QSTASH_NEXT_SIGNING_KEY,
  });
  const url = "https://receiver.example.com/api/webhook";
  const body = JSON.stringify({ hello: "receiver" });
  try {
    return await receiver.verify({ signature: qstashSignature(signingKey, url, body), body, url });
  } catch {
    return false; // Receiver throws SignatureError on a signature it refuses
  }
}

interface SigningKeysEnv {
  QSTASH_CURRENT_SIGNING_KEY: string;
  QSTASH_NEXT_SIGNING_KEY: string;
}

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

/** Records a promise the demo checks; "yes" or "no" for the printout. */
type Check = (kept: boolean, promise: string) => string;

/** The stack's outputs as `pulumi stack output --json --show-secrets` gives them. */
type Outputs = Record<string, unknown>;

const restToken = (all: Outputs, name: "redisEnv" | "redisAclEnv"): string =>
  (all[name] as Record<string, string>).UPSTASH_REDIS_REST_TOKEN;

/** The consumer on the database credentials (reset) and the one on the ACL user's (overlap). */
interface ConsumerLoops {
  reset: ConsumerLoop;
  overlap: ConsumerLoop;
}

const signingKeys = (all: Outputs): SigningKeysEnv => all.signingKeysEnv as SigningKeysEnv;

/**
 * Two applications that hold the credentials of the first up and get the new
 * ones only after `bump` (the next up) has finished, as a deployment that
 * reads its secrets at rollout does: one on the database credentials, one on
 * the ACL user's. The consumer loop keeps one key per database, so the ACL
 * user's loop runs on a database of its own.
 */
async function bumpWithConsumers(
  emulator: UpstashEmulator,
  first: Outputs,
  aclDatabaseId: string,
  bump: () => Promise<Outputs>,
): Promise<{ second: Outputs; loops: ConsumerLoops }> {
  const loops = {
    reset: new ConsumerLoop(emulator, FIXTURE_IDS.redis),
    overlap: new ConsumerLoop(emulator, aclDatabaseId),
  };
  loops.reset.use(restToken(first, "redisEnv"));
  loops.overlap.use(restToken(first, "redisAclEnv"));
  loops.reset.start();
  loops.overlap.start();
  try {
    const second = await bump();
    loops.reset.use(restToken(second, "redisEnv"));
    loops.overlap.use(restToken(second, "redisAclEnv"));
    await sleep(300); // a moment on the new credentials, to show that they serve
    return { second, loops };
  } finally {
    await Promise.all([loops.reset.stop(), loops.overlap.stop()]);
  }
}

/** The consumer loops' table, and the promises they check. */
function checkConsumers(loops: ConsumerLoops, check: Check): void {
  console.log("\nconsumer loops across the bumped up (SET+GET, new credentials read after it):");
  const rows = [
    ["reset (database credentials)", loops.reset],
    ['overlap (ACL user "app")', loops.overlap],
  ] as const;
  printTable(
    ["mode", "requests", "failed", "failed %"],
    rows.map(([mode, loop]) => [
      mode,
      count(loop.requests),
      count(loop.failed),
      percent(loop.failed, loop.requests),
    ]),
  );
  check(loops.overlap.requests > 0 && loops.reset.requests > 0, "the consumer loops ran");
  check(loops.overlap.failed === 0, "no request with the ACL user's credentials failed");
  // Without failures on the reset side the loops measured nothing, and the
  // overlap's zero would prove nothing either.
  check(loops.reset.failed > 0, "the reset broke the consumer that held the old credentials");
}

/** The keys rolled once, and a receiver still holding the previous pair accepts the new signatures. */
async function checkSigningKeys(
  previousKeys: SigningKeysEnv,
  newKeys: SigningKeysEnv,
  check: Check,
): Promise<{ rolledOnce: string; receiverKept: string }> {
  const rolledOnce = check(
    newKeys.QSTASH_CURRENT_SIGNING_KEY === previousKeys.QSTASH_NEXT_SIGNING_KEY &&
      newKeys.QSTASH_NEXT_SIGNING_KEY !== previousKeys.QSTASH_NEXT_SIGNING_KEY,
    "the signing keys rolled once (the new current is the previous next)",
  );
  console.log(`signing keys: rolled once (the new current is the previous next): ${rolledOnce}`);
  const receiverKept = check(
    await verifies(previousKeys, newKeys.QSTASH_CURRENT_SIGNING_KEY),
    "a receiver with the previous signing keys verifies the new signatures",
  );
  console.log(
    `signing keys: a receiver with the previous pair verifies the new signatures: ${receiverKept}`,
  );
  return { rolledOnce, receiverKept };
}

/** How many files (the backend's, and the stack's config file) hold any of `secrets` in plaintext. */
function plaintextSecretFiles(backendDir: string, secrets: string[], check: Check): number {
  const leaking = filesContaining(backendDir, secrets);
  const config = readFileSync(STACK_CONFIG, "utf8");
  const configLeaks = secrets.filter((secret) => config.includes(secret));
  check(leaking.length === 0 && configLeaks.length === 0, "no file holds a plaintext secret");
  console.log(
    `files holding a plaintext secret: ${leaking.length} in the backend folder, ${configLeaks.length} in Pulumi.demo.yaml`,
  );
  return leaking.length + configLeaks.length;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
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
  const outputs = async (): Promise<Outputs> =>
    user.pulumiJson(REPO_ROOT, "stack", "output", "--json", "--show-secrets");
  /** The promises this run broke: any makes the demo fail. */
  const broken: string[] = [];
  const check: Check = (kept, promise) => {
    if (!kept) broken.push(promise);
    return kept ? "yes" : "no";
  };

  // The ACL user's consumer loop needs a database of its own (see bumpWithConsumers).
  const aclDatabaseId = addRedis(emulator.data).database_id;

  console.log(`emulator: ${emulator.url}    backend: ${user.backendDir}`);
  rmSync(STACK_CONFIG, { force: true });
  try {
    await user.pulumi(REPO_ROOT, "stack", "init", STACK);
    await user.setManagementCredentials(REPO_ROOT, emulator.data.account);
    await user.pulumi(REPO_ROOT, "config", "set", "trigger", "initial");
    await user.pulumi(REPO_ROOT, "config", "set", "redisAclDatabaseId", aclDatabaseId);

    await run("pulumi up (the first rotation of every target; the signing keys are adopted)", "up");
    const first = await outputs();
    const firstToken = restToken(first, "redisEnv");
    const firstAclToken = restToken(first, "redisAclEnv");

    const { second, loops } = await bumpWithConsumers(emulator, first, aclDatabaseId, async () => {
      await user.pulumi(REPO_ROOT, "config", "set", "trigger", `bumped-${Date.now()}`);
      await run(
        "pulumi up with the trigger bumped (rotates in place; consumers keep running)",
        "up",
      );
      return outputs();
    });
    const secondToken = restToken(second, "redisEnv");
    const secondAclToken = restToken(second, "redisAclEnv");
    const masked = await user.pulumiJson<Record<string, unknown>>(
      REPO_ROOT,
      "stack",
      "output",
      "--json",
    );

    console.log("\n== results");
    const resets = emulator.rotations().length;
    check(resets === 8, "one reset per reset target and trigger");
    console.log(
      `resets made by the two runs: ${resets} (4 reset targets x 2; the ACL user and the signing keys reset nothing)`,
    );
    console.log(`rotation counts: ${JSON.stringify(second.rotationCounts)}`);
    console.log(
      `outputs shown as [secret] without --show-secrets: ${Object.entries(masked)
        .filter(([, value]) => value === "[secret]")
        .map(([name]) => name)
        .join(", ")}`,
    );
    const oldStatus = await dataPlaneStatus(emulator.url, firstToken);
    const newStatus = await dataPlaneStatus(emulator.url, secondToken);
    check(oldStatus === 401, "the old Redis REST token is rejected");
    check(newStatus === 200, "the new Redis REST token works");
    console.log(`old Redis REST token ${mask(firstToken)}: the emulator answers ${oldStatus}`);
    console.log(`new Redis REST token ${mask(secondToken)}: the emulator answers ${newStatus}`);
    const oldAclStatus = await pingStatus(emulator, firstAclToken, aclDatabaseId);
    const newAclStatus = await pingStatus(emulator, secondAclToken, aclDatabaseId);
    check(
      oldAclStatus === 200,
      "the ACL user's previous password stays valid until the next rotation",
    );
    check(newAclStatus === 200, "the ACL user's new password works");
    console.log(
      `ACL user "app": previous token ${mask(firstAclToken)} answers ${oldAclStatus} (valid until the next rotation), new token ${mask(secondAclToken)} answers ${newAclStatus}`,
    );

    checkConsumers(loops, check);

    const previousKeys = signingKeys(first);
    const newKeys = signingKeys(second);
    const { rolledOnce, receiverKept } = await checkSigningKeys(previousKeys, newKeys, check);

    const secrets = [
      emulator.data.account.apiKey,
      firstToken,
      secondToken,
      firstAclToken,
      secondAclToken,
      ...Object.values(previousKeys),
      ...Object.values(newKeys),
    ];
    const plaintext = plaintextSecretFiles(user.backendDir, secrets, check);

    const before = emulator.rotations().length;
    await run("pulumi destroy (the QStash rotation has onDelete: rotate)", "destroy");
    const destroyResets = emulator.rotations().length - before;
    check(
      destroyResets === 1,
      "destroy resets the QStash token (onDelete: rotate) and nothing else",
    );
    console.log(`resets made by destroy: ${destroyResets}`);

    const line = (loop: ConsumerLoop): string =>
      `${count(loop.failed)} failed of ${count(loop.requests)} requests (${percent(loop.failed, loop.requests)})`;
    console.log("\n== summary");
    console.log(`across one rotation, a consumer picking up new credentials one deploy late:`);
    console.log(`  reset (database credentials): ${line(loops.reset)}`);
    console.log(`  overlap (ACL user "app"):     ${line(loops.overlap)}`);
    console.log(
      `signing keys rolled once: ${rolledOnce}; a receiver with the previous pair verifies the new signatures: ${receiverKept}`,
    );
    console.log(
      `old Redis token ${oldStatus}, new ${newStatus}; plaintext secrets in files: ${plaintext}; resets by destroy: ${destroyResets}`,
    );
    console.log(
      broken.length === 0
        ? `every promise kept (${Math.round((Date.now() - startedAt) / 1000)} s)`
        : `BROKEN: ${broken.join("; ")}`,
    );
  } finally {
    await user.pulumi(REPO_ROOT, "stack", "rm", "--yes", "--force", STACK).catch(() => undefined);
    rmSync(STACK_CONFIG, { force: true });
    rmSync(workDir, { recursive: true, force: true });
    await emulator.close();
  }
  if (broken.length > 0) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

/**
 * The main job (`npm run demo`): starts the Upstash API emulator, brings the
 * root program up on a local backend, bumps the trigger, and shows that the
 * rotated credentials work while the old ones are rejected.
 */
import { dataPlaneStatus, startEmulator } from "../emulator/server";
import { rootProgram } from "../program";
import { filesContaining, localStack } from "./pulumiHarness";

const mask = (secret: string): string => `${secret.slice(0, 4)}…(${secret.length} chars)`;

async function main(): Promise<void> {
  const emulator = await startEmulator();
  console.log(`emulator: ${emulator.url}`);
  try {
    const { stack, backendDir } = await localStack({
      emulator,
      projectName: "upstash-credential-rotation",
      stackName: "dev",
      program: async () => rootProgram(),
    });
    const log = (line: string): void => {
      process.stdout.write(`  | ${line}`);
    };

    console.log("\n== pulumi up (first rotation of every target)");
    await stack.setConfig("trigger", { value: "initial" });
    const first = await stack.up({ onOutput: log });
    const firstToken = String(first.outputs.redisEnv.value.UPSTASH_REDIS_REST_TOKEN);

    console.log("\n== pulumi up with the trigger bumped (rotate in place)");
    await stack.setConfig("trigger", { value: `bumped-${Date.now()}` });
    const second = await stack.up({ onOutput: log });
    const secondToken = String(second.outputs.redisEnv.value.UPSTASH_REDIS_REST_TOKEN);

    console.log("\n== results");
    console.log(`resets made by the two runs: ${emulator.rotations().length} (4 targets x 2)`);
    console.log(`rotation counts: ${JSON.stringify(second.outputs.rotationCounts.value)}`);
    console.log(
      `outputs secret: ${Object.entries(second.outputs)
        .map(([k, v]) => `${k}=${v.secret}`)
        .join(", ")}`,
    );
    console.log(
      `old Redis REST token ${mask(firstToken)}: emulator answers ${await dataPlaneStatus(emulator.url, firstToken)}`,
    );
    console.log(
      `new Redis REST token ${mask(secondToken)}: emulator answers ${await dataPlaneStatus(emulator.url, secondToken)}`,
    );

    // The state on disk is what matters: `exportStack()` itself decrypts (it runs `--show-secrets`).
    const secrets = [emulator.data.account.apiKey, firstToken, secondToken];
    const leaking = filesContaining(backendDir, secrets);
    console.log(`files in the backend folder holding a plaintext secret: ${leaking.length}`);

    console.log("\n== pulumi destroy (the QStash rotation has onDelete: rotate)");
    const before = emulator.rotations().length;
    await stack.destroy({ onOutput: log });
    console.log(`resets made by destroy: ${emulator.rotations().length - before}`);
  } finally {
    await emulator.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

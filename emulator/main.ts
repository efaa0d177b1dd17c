import { FIXTURE_IDS } from "./state";
import { startEmulator } from "./server";

/** `npm run emulator [-- --port N]`: serves the emulator until interrupted. */
async function main(): Promise<void> {
  const portFlag = process.argv.indexOf("--port");
  const port = Number(
    portFlag > 0 ? process.argv[portFlag + 1] : (process.env.EMULATOR_PORT ?? 8787),
  );
  const emulator = await startEmulator({ port });
  // First line is the URL, so scripts can read it.
  console.log(emulator.url);
  console.error(
    `Upstash API emulator: account ${emulator.data.account.email}; fixtures ${JSON.stringify(FIXTURE_IDS)}`,
  );
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();

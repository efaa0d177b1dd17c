import { credentialRotationProvider, type RotationState } from "../../provider";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { forgetSharedRequestGate } from "../../provider/http/concurrency";
import { setEnvironment } from "./environment";
import type { RotationInputs } from "../../provider/inputs";
import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { DEFAULT_ACCOUNT } from "../../emulator/state";

export const provider = credentialRotationProvider;

const TUNING = {
  UPSTASH_API_RETRY_BASE_MS: "20",
  UPSTASH_API_TIMEOUT_MS: "1500",
  UPSTASH_API_MAX_TOTAL_MS: "8000",
};

/**
 * Starts one emulator for a mocha suite and points the provider at it through
 * the same environment variables a user would set.
 */
export function useEmulator(): { readonly emulator: UpstashEmulator } {
  const holder: { emulator?: UpstashEmulator } = {};
  let restoreEnvironment: (() => void) | undefined;
  before(async () => {
    holder.emulator = await startEmulator();
    restoreEnvironment = setEnvironment({
      ...TUNING,
      UPSTASH_API_URL: holder.emulator.url,
      UPSTASH_EMAIL: DEFAULT_ACCOUNT.email,
      UPSTASH_API_KEY: DEFAULT_ACCOUNT.apiKey,
    });
  });
  beforeEach(() => {
    holder.emulator?.reset();
    forgetSharedRequestGate();
    rememberConfiguredCredentials(undefined, undefined);
  });
  after(async () => {
    restoreEnvironment?.();
    await holder.emulator?.close();
  });
  return {
    get emulator() {
      if (!holder.emulator) throw new Error("emulator not started");
      return holder.emulator;
    },
  };
}

/** check then create, as the engine does on `pulumi up`. */
export async function createThroughProvider(
  inputs: Partial<RotationInputs> & Pick<RotationInputs, "target">,
): Promise<{ id: string; state: RotationState }> {
  const checked = await provider.check!({} as never, inputs as never);
  if (checked.failures?.length) {
    throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
  }
  const created = await provider.create(checked.inputs as never);
  return { id: created.id, state: created.outs as RotationState };
}

/** diff then (when it says so) update, as the engine does. */
export async function updateThroughProvider(
  id: string,
  olds: RotationState,
  inputs: Partial<RotationInputs>,
): Promise<{ changed: boolean; replaces: string[]; state: RotationState }> {
  const news = { ...olds, ...inputs };
  const checked = await provider.check!(olds as never, news as never);
  const diff = await provider.diff!(id, olds, checked.inputs as never);
  if (!diff.changes) return { changed: false, replaces: [], state: olds };
  const updated = await provider.update!(id, olds, checked.inputs as never);
  return {
    changed: true,
    replaces: diff.replaces ?? [],
    state: updated.outs as RotationState,
  };
}

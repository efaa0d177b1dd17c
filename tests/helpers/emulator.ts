import { credentialRotationProvider, type RotationState } from "../../provider";
import { rememberConfiguredCredentials } from "../../provider/credentials";
import { forgetSharedRequestGate } from "../../provider/http/concurrency";
import { setEnvironment } from "./environment";
import type { RotationInputs } from "../../provider/inputs";
import {
  emulatorEnvironment,
  startEmulator,
  type LoggedRequest,
  type UpstashEmulator,
} from "../../emulator/server";
import { DEFAULT_ACCOUNT } from "../../emulator/state";

export const provider = credentialRotationProvider;

const TUNING = {
  UPSTASH_API_RETRY_BASE_MS: "20",
  UPSTASH_API_TIMEOUT_MS: "1500",
  UPSTASH_API_MAX_TOTAL_MS: "8000",
  // Suites re-run at once after an unknown outcome; the tests of the window itself set it.
  UPSTASH_LATE_LANDING_WINDOW_MS: "0",
};

/**
 * The emulator's request log as the provider suites read it: Developer API
 * requests only (what they count, e.g. "one reset and one read"), while
 * data-plane requests (`plane: "data"`: verification, ACL commands, signing
 * keys) go to `dataPlane`.
 */
class DeveloperApiLog extends Array<LoggedRequest> {
  static get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  readonly dataPlane: LoggedRequest[] = [];
  override push(...entries: LoggedRequest[]): number {
    for (const entry of entries) {
      if (entry.plane === "data") this.dataPlane.push(entry);
      else super.push(entry);
    }
    return this.length;
  }
}

/**
 * Starts one emulator for a mocha suite and points the provider at it through
 * the same environment variables a user would set (the Developer API and the
 * data planes). `emulator.log` holds the Developer API requests;
 * `dataPlaneLog` the data-plane ones.
 */
export function useEmulator(): {
  readonly emulator: UpstashEmulator;
  readonly dataPlaneLog: LoggedRequest[];
} {
  const holder: { emulator?: UpstashEmulator; log?: DeveloperApiLog } = {};
  let restoreEnvironment: (() => void) | undefined;
  before(async () => {
    holder.emulator = await startEmulator();
    holder.log = new DeveloperApiLog();
    (holder.emulator as unknown as { log: LoggedRequest[] }).log = holder.log;
    restoreEnvironment = setEnvironment({
      ...TUNING,
      // Every new credential is proven against the data plane before it is handed out.
      ...emulatorEnvironment(holder.emulator.url),
      UPSTASH_EMAIL: DEFAULT_ACCOUNT.email,
      UPSTASH_API_KEY: DEFAULT_ACCOUNT.apiKey,
    });
  });
  beforeEach(() => {
    holder.emulator?.reset();
    holder.log?.dataPlane.splice(0);
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
    get dataPlaneLog() {
      if (!holder.log) throw new Error("emulator not started");
      return holder.log.dataPlane;
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

/**
 * A bare emulator per suite, for tests of the HTTP layer: reset, with a cold
 * process-wide request gate, before and after each test; no environment is set.
 */
export function useBareEmulator(): { readonly emulator: UpstashEmulator } {
  const holder: { emulator?: UpstashEmulator } = {};
  before(async () => {
    holder.emulator = await startEmulator();
  });
  after(async () => {
    await holder.emulator?.close();
  });
  beforeEach(() => {
    holder.emulator?.reset();
    forgetSharedRequestGate();
  });
  afterEach(() => forgetSharedRequestGate());
  return {
    get emulator() {
      if (!holder.emulator) throw new Error("emulator not started");
      return holder.emulator;
    },
  };
}

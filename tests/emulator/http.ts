import { startEmulator, type UpstashEmulator } from "../../emulator/server";
import { DEFAULT_ACCOUNT } from "../../emulator/state";

export interface Reply {
  status: number;
  contentType: string;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; throws when it is not JSON. */
  json: <T = unknown>() => T;
}

export const basic = (email: string, apiKey: string): string =>
  `Basic ${Buffer.from(`${email}:${apiKey}`).toString("base64")}`;

export const DEFAULT_AUTH = basic(DEFAULT_ACCOUNT.email, DEFAULT_ACCOUNT.apiKey);

/**
 * One fresh emulator per suite, reset before each test, and a `call` that
 * speaks to it over real HTTP with `fetch` (Basic auth unless told otherwise).
 */
export function useEmulatorOverHttp(): {
  readonly emulator: UpstashEmulator;
  call: (
    method: string,
    path: string,
    options?: { authorization?: string | null; headers?: Record<string, string>; body?: string },
  ) => Promise<Reply>;
} {
  let emulator: UpstashEmulator | undefined;
  before(async () => {
    emulator = await startEmulator();
  });
  beforeEach(() => emulator?.reset(DEFAULT_ACCOUNT));
  after(async () => {
    await emulator?.close();
  });
  const running = (): UpstashEmulator => {
    if (!emulator) throw new Error("emulator not started");
    return emulator;
  };
  return {
    get emulator() {
      return running();
    },
    async call(method, path, options = {}) {
      const authorization =
        options.authorization === undefined ? DEFAULT_AUTH : options.authorization;
      const response = await fetch(`${running().url}${path}`, {
        method,
        headers: {
          ...(authorization === null ? {} : { Authorization: authorization }),
          ...options.headers,
        },
        body: options.body,
      });
      const text = await response.text();
      return {
        status: response.status,
        contentType: response.headers.get("content-type") ?? "",
        headers: response.headers,
        text,
        json: <T>() => JSON.parse(text) as T,
      };
    },
  };
}

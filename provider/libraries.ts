/**
 * The libraries that do the provider's work, loaded on first use rather than
 * with the modules that use them. Every Pulumi program that declares a
 * `CredentialRotation` loads the operations module (it is the provider
 * object the SDK serializes), yet only the provider host parses inputs,
 * calls Upstash or speaks RESP: loading zod and axios with it cost each
 * program about 65 ms before its first resource was registered. Within the
 * provider host each one loads once, on the first call that needs it.
 */
import type { z } from "zod";
import type { AxiosStatic } from "axios";
import type axiosRetry from "axios-retry";
import { messageOf, PortableError } from "./http/errors";

/**
 * A dependency that cannot be loaded. Loaded on first use, a missing one
 * fails in the middle of an operation, where a parser or a proof would
 * otherwise report it as Upstash's answer or a credential that failed:
 * this error is passed through as it is (see `isLibraryMissing`).
 */
export class LibraryMissingError extends PortableError {
  constructor(library: string, cause: unknown) {
    super(
      `pulumi-upstash-credential-rotation could not load its dependency "${library}" (${messageOf(cause) ?? "unknown error"}). Reinstall the program's dependencies (\`npm install\`; the package lists "${library}" among its own), then run the command again.`,
    );
    this.name = "LibraryMissingError";
  }
}

/** By name, so that a copy of the class (a provider serialized from sources) counts too. */
export function isLibraryMissing(error: unknown): error is LibraryMissingError {
  return (error as { name?: unknown } | undefined)?.name === "LibraryMissingError";
}

function load<T>(library: string, loader: () => T): T {
  try {
    return loader();
  } catch (error) {
    throw new LibraryMissingError(library, error);
  }
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */

export function loadZod(): typeof z {
  return load("zod", () => (require("zod") as typeof import("zod")).z);
}

export function loadAxios(): AxiosStatic {
  return load("axios", () => (require("axios") as { default: AxiosStatic }).default);
}

export function loadAxiosRetry(): typeof axiosRetry {
  return load(
    "axios-retry",
    () => (require("axios-retry") as { default: typeof axiosRetry }).default,
  );
}

export function loadIoredis(): typeof import("ioredis") {
  return load("ioredis", () => require("ioredis") as typeof import("ioredis"));
}

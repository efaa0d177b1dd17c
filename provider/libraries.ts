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

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */

export function loadZod(): typeof z {
  return (require("zod") as typeof import("zod")).z;
}

export function loadAxios(): AxiosStatic {
  return (require("axios") as { default: AxiosStatic }).default;
}

export function loadAxiosRetry(): typeof axiosRetry {
  return (require("axios-retry") as { default: typeof axiosRetry }).default;
}

export function loadIoredis(): typeof import("ioredis") {
  return require("ioredis") as typeof import("ioredis");
}

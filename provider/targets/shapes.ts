import type { ZodType } from "zod";
import { ResponseShapeError } from "../http/client";

/** Validates a decoded body with a zod schema, naming the fields that failed but never their values. */
export function parseShape<T>(schema: ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => issue.path.join(".") || "(body)");
  throw new ResponseShapeError(`missing or invalid: ${[...new Set(fields)].join(", ")}`);
}

/**
 * A full host name from what the Developer API calls an endpoint: a host
 * (`eu2-sweeping-lark-31321.upstash.io`) or, as its examples also show, only
 * the first label (`beloved-stallion-58500`). `suffix` completes the second form.
 */
export function fullHost(endpoint: string, suffix: string): string {
  const host = endpoint
    .trim()
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/\/.*$/, "");
  return host.includes(".") ? host : `${host}${suffix}`;
}

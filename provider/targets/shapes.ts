import type { z as Zod, ZodType } from "zod";
import { ResponseShapeError } from "../http/client";
import { loadZod } from "../libraries";

const SCHEMA_CACHE_KEY = "__upstashCredentialRotationResponseSchemas";

/**
 * `build`'s schema, built once per process. zod compiles an object schema on
 * its first parse, and a schema built per call made that most of the CPU a
 * rotation spends in the provider host. The cache lives on `globalThis`: the
 * closure serializer copies module state by value into the provider text, and
 * it rejects zod schemas (they hold bound functions).
 */
export function schemaOnce<T extends ZodType>(name: string, build: (z: typeof Zod) => T): () => T {
  return () => {
    const registry = globalThis as unknown as Record<string, Map<string, ZodType> | undefined>;
    const cache = (registry[SCHEMA_CACHE_KEY] ??= new Map());
    let schema = cache.get(name) as T | undefined;
    if (!schema) {
      schema = build(loadZod());
      cache.set(name, schema);
    }
    return schema;
  };
}

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

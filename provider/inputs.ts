import { z } from "zod";
import { credentialTiers, selectCredentials } from "./credentials";
import type { RotationTarget } from "./targets";
import { UNKNOWN_VALUE, type TriggerValue } from "./trigger";

/** What to do with the credentials when the resource is deleted. */
export type OnDelete = "keep" | "rotate";

/** The provider's inputs after `check`: what Pulumi stores as the resource's inputs. */
export interface RotationInputs {
  target: RotationTarget;
  trigger: TriggerValue;
  onDelete: OnDelete;
  email?: string;
  apiKey?: string;
}

/** One per-property failure, shown by `pulumi preview` next to the property. */
export interface InputFailure {
  property: string;
  reason: string;
}

const TARGET_FIELDS: Record<string, string[]> = {
  redis: ["type", "databaseId"],
  vector: ["type", "indexId"],
  search: ["type", "indexId"],
  qstash: ["type", "qstashUserId"],
};

// Built per call: zod schemas hold bound functions, which the closure serializer rejects.
function inputSchema(targetKnown: boolean) {
  const id = z.string().trim().min(1);
  const target = z.discriminatedUnion("type", [
    z.strictObject({ type: z.literal("redis"), databaseId: id }),
    z.strictObject({ type: z.literal("vector"), indexId: id }),
    z.strictObject({ type: z.literal("search"), indexId: id }),
    z.strictObject({ type: z.literal("qstash"), qstashUserId: id.optional() }),
  ]);
  return z.object({
    target: targetKnown ? target : z.unknown().optional(),
    trigger: z.unknown().optional(),
    onDelete: z.enum(["keep", "rotate"]).optional(),
    email: z.string().trim().min(1).optional(),
    apiKey: z.string().trim().min(1).optional(),
  });
}

/**
 * Words for a zod issue that never quote the offending value, which might be
 * a credential pasted into the wrong field.
 */
function reasonFor(issue: z.core.$ZodIssue, input: unknown, targetType: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return input === undefined ? "is required" : `must be a ${issue.expected}`;
    case "invalid_union":
      return 'must have a `type` of "redis", "vector", "search" or "qstash"';
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "too_small":
      return "must not be empty";
    case "unrecognized_keys": {
      const allowed = typeof targetType === "string" ? TARGET_FIELDS[targetType] : undefined;
      return allowed
        ? `has fields a ${targetType} target does not take; allowed: ${allowed.join(", ")}`
        : "has fields this resource does not take";
    }
    default:
      return "is not valid";
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Validates and normalises the inputs. Never throws: every problem becomes a
 * per-property failure. Values not known yet (preview) pass unchecked.
 */
export function checkInputs(news: Record<string, unknown>): {
  inputs: Record<string, unknown>;
  failures: InputFailure[];
} {
  const target = news.target;
  const targetType =
    target && typeof target === "object" ? (target as Record<string, unknown>).type : undefined;
  const targetKnown = target !== UNKNOWN_VALUE && targetType !== UNKNOWN_VALUE;
  const { __provider: _provider, ...userInputs } = news;
  const failures: InputFailure[] = [];

  const parsed = inputSchema(targetKnown).safeParse(userInputs);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path;
      const isDiscriminator = issue.code === "invalid_union" && path.length === 1;
      const property = (isDiscriminator ? [...path, "type"] : path).map(String).join(".");
      failures.push({
        property: property || "target",
        reason: reasonFor(issue, valueAt(userInputs, path), targetType),
      });
    }
  }

  const selected = selectCredentials(
    credentialTiers({
      email: stringOrUndefined(news.email),
      apiKey: stringOrUndefined(news.apiKey),
    }),
  );
  if (selected !== "pending" && "problem" in selected) {
    failures.push({ property: selected.property, reason: selected.problem });
  }

  return {
    inputs: { ...news, onDelete: news.onDelete ?? "keep", trigger: news.trigger ?? null },
    failures,
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

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
// A field that holds a value not known yet (preview) is checked as exactly that value.
function inputSchema(userInputs: Record<string, unknown>, targetKnown: boolean) {
  const orUnknown = <T extends z.ZodType>(path: string[], schema: T) =>
    valueAt(userInputs, path) === UNKNOWN_VALUE ? z.literal(UNKNOWN_VALUE) : schema;
  const id = z.string().trim().min(1);
  const target = z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("redis"),
      databaseId: orUnknown(["target", "databaseId"], id),
    }),
    z.strictObject({ type: z.literal("vector"), indexId: orUnknown(["target", "indexId"], id) }),
    z.strictObject({ type: z.literal("search"), indexId: orUnknown(["target", "indexId"], id) }),
    z.strictObject({
      type: z.literal("qstash"),
      qstashUserId: orUnknown(["target", "qstashUserId"], id).optional(),
    }),
  ]);
  return z.object({
    target: targetKnown ? target : z.unknown().optional(),
    trigger: z.unknown().optional(),
    onDelete: orUnknown(["onDelete"], z.enum(["keep", "rotate"])).optional(),
    email: orUnknown(["email"], z.string().trim().min(1)).optional(),
    apiKey: orUnknown(["apiKey"], z.string().trim().min(1)).optional(),
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
 * per-property failure.
 *
 * Values not known yet (preview sends them as {@link UNKNOWN_VALUE}) pass
 * unchecked wherever they stand, at the top level or inside `target`; the
 * known values beside them are still checked.
 *
 * When the inputs are valid, the returned inputs hold what was validated:
 * the target's id and `email` without surrounding whitespace, and `apiKey`
 * too (an Upstash API key never starts or ends with whitespace, so a
 * surrounding space or newline is a copy-paste slip, not part of the key).
 * `onDelete` defaults to `"keep"` and `trigger` to `null`; `trigger`,
 * unknown values, `__provider` and any other field are handed on as given.
 * With failures, the inputs are handed on as given (plus the defaults).
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

  const parsed = inputSchema(userInputs, targetKnown).safeParse(userInputs);
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

  const inputs: Record<string, unknown> = { ...news };
  if (parsed.success) {
    const validated: Record<string, unknown> = parsed.data;
    for (const key of ["target", "onDelete", "email", "apiKey"]) {
      if (key in news) inputs[key] = validated[key];
    }
  }
  inputs.onDelete = inputs.onDelete ?? "keep";
  inputs.trigger = news.trigger ?? null;
  return { inputs, failures };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

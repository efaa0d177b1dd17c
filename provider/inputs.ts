import type { z } from "zod";
import { credentialTiers, selectCredentials } from "./credentials";
import type { RotationTarget } from "./targets";
import { loadZod } from "./libraries";
import { isPeriod, periodEnd } from "./rotationWindow";
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
  /** Prove every new credential against the data plane before handing it out (default true). */
  verify?: boolean;
  /** Changing it revokes every credential of the target at once (incident response). */
  revokeAllOn?: TriggerValue;
  /** qstash-signing-keys only: the least time between two rolls (default "24h"). */
  minRollInterval?: string;
}

/** The rules an ACL user gets when `target.rules` is left out. */
export const DEFAULT_ACL_RULES = ["~*", "&*", "+@all", "-@dangerous"];

/** An ACL user name this provider may manage: no whitespace, not Upstash's built-in users. */
export function isAclUserName(value: string): boolean {
  return (
    /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}$/.test(value) && !["default", "default_ro"].includes(value)
  );
}

/**
 * An ACL rule this provider applies for the user. Passwords, `on`/`off`,
 * `reset` and `nopass` are the provider's business; Upstash rejects
 * subcommand rules (`+client|list`).
 */
export function isAclRule(value: string): boolean {
  return /^([~&]\S+|[+-]@?[a-z][a-z0-9_-]*|allkeys|allchannels|allcommands|nocommands|resetkeys|resetchannels)$/i.test(
    value,
  );
}

const USER_REASON =
  'must be 1 to 64 letters, digits or . _ @ : - (starting with a letter or digit), and not "default" or "default_ro" (Upstash\'s own users)';
const RULE_REASON =
  "is not a rule this provider applies: use ~keypattern, &channelpattern, +command, -command, +@category, -@category, allkeys, allchannels, allcommands, nocommands, resetkeys or resetchannels (passwords, on/off and reset are managed by the provider; Upstash refuses subcommand rules)";
const PERIOD_REASON =
  'must be a whole number of min, h, d, w or mo, e.g. "24h" ("0min" turns the guard off; a bare "m" is ambiguous)';

/** The longest roll guard: a longer one would only ever refuse, with no way to tell it from a typo. */
const MAX_ROLL_INTERVAL_MS = 366 * 86_400_000;

function isRollInterval(period: string): boolean {
  if (!isPeriod(period)) return false;
  // From a month's last day, so that "12mo" measures at most a year and a day.
  const from = new Date(Date.UTC(2024, 0, 31));
  const length = periodEnd(period, from).getTime() - from.getTime();
  return Number.isFinite(length) && length <= MAX_ROLL_INTERVAL_MS;
}

/** One per-property failure, shown by `pulumi preview` next to the property. */
export interface InputFailure {
  property: string;
  reason: string;
}

const TARGET_FIELDS: Record<string, string[]> = {
  redis: ["type", "databaseId", "user", "rules"],
  vector: ["type", "indexId"],
  search: ["type", "indexId"],
  qstash: ["type", "qstashUserId"],
  "qstash-signing-keys": ["type", "qstashUserId"],
};

/** Where a value not known yet (preview) may stand; each is then checked as exactly that value. */
const UNKNOWN_PATHS = [
  "target.databaseId",
  "target.user",
  "target.rules",
  "target.indexId",
  "target.qstashUserId",
  "onDelete",
  "email",
  "apiKey",
  "verify",
  "minRollInterval",
] as const;
type UnknownPath = (typeof UNKNOWN_PATHS)[number];

const SCHEMA_CACHE_KEY = "__upstashCredentialRotationInputSchemas";

/**
 * The schema for inputs whose unknown values stand at `unknown`. Building one
 * took most of a `check` (zod compiles each object schema), so each shape is
 * built once per process. The cache lives on `globalThis`: zod schemas hold
 * bound functions, which the closure serializer rejects, and it copies module
 * state by value into the provider text.
 */
function inputSchema(unknown: ReadonlySet<UnknownPath>, targetKnown: boolean): InputSchema {
  const registry = globalThis as unknown as Record<string, Map<string, InputSchema> | undefined>;
  const cache = (registry[SCHEMA_CACHE_KEY] ??= new Map());
  const key = `${targetKnown}:${[...unknown].join(",")}`;
  let schema = cache.get(key);
  if (!schema) {
    schema = buildInputSchema(unknown, targetKnown);
    cache.set(key, schema);
  }
  return schema;
}

type InputSchema = ReturnType<typeof buildInputSchema>;

function buildInputSchema(unknown: ReadonlySet<UnknownPath>, targetKnown: boolean) {
  const z = loadZod();
  const orUnknown = <T extends z.ZodType>(path: UnknownPath, schema: T) =>
    unknown.has(path) ? z.literal(UNKNOWN_VALUE) : schema;
  const id = z.string().trim().min(1);
  const rule = z.string().refine((v) => v === UNKNOWN_VALUE || isAclRule(v), RULE_REASON);
  const target = z.discriminatedUnion("type", [
    z.strictObject({
      type: z.literal("redis"),
      databaseId: orUnknown("target.databaseId", id),
      user: orUnknown("target.user", z.string().refine(isAclUserName, USER_REASON)).optional(),
      rules: orUnknown("target.rules", z.array(rule).min(1)).optional(),
    }),
    z.strictObject({ type: z.literal("vector"), indexId: orUnknown("target.indexId", id) }),
    z.strictObject({ type: z.literal("search"), indexId: orUnknown("target.indexId", id) }),
    z.strictObject({
      type: z.literal("qstash"),
      qstashUserId: orUnknown("target.qstashUserId", id).optional(),
    }),
    z.strictObject({
      type: z.literal("qstash-signing-keys"),
      qstashUserId: orUnknown("target.qstashUserId", id).optional(),
    }),
  ]);
  return z.object({
    target: targetKnown ? target : z.unknown().optional(),
    trigger: z.unknown().optional(),
    onDelete: orUnknown("onDelete", z.enum(["keep", "rotate"])).optional(),
    email: orUnknown("email", z.string().trim().min(1)).optional(),
    apiKey: orUnknown("apiKey", z.string().trim().min(1)).optional(),
    verify: orUnknown("verify", z.boolean()).optional(),
    revokeAllOn: z.unknown().optional(),
    minRollInterval: orUnknown(
      "minRollInterval",
      z
        .string()
        .refine(isPeriod, PERIOD_REASON)
        .refine(
          (period) => !isPeriod(period) || isRollInterval(period),
          'must be at most a year ("366d", "52w", "12mo"): the guard counts from the last roll, so a longer one would refuse every roll; use "0min" to roll without it',
        ),
    ).optional(),
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
      return 'must have a `type` of "redis", "vector", "search" or "qstash" (or "qstash-signing-keys")';
    case "invalid_value":
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}`;
    case "too_small":
      return "must not be empty";
    case "custom":
      return issue.message;
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

  const unknown = new Set(
    UNKNOWN_PATHS.filter((path) => valueAt(userInputs, path.split(".")) === UNKNOWN_VALUE),
  );
  const parsed = inputSchema(unknown, targetKnown).safeParse(userInputs);
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

  failures.push(...combinationFailures(userInputs));

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

/** Inputs that are valid alone but not together; unknown values pass. */
function combinationFailures(inputs: Record<string, unknown>): InputFailure[] {
  const failures: InputFailure[] = [];
  const target = (inputs.target ?? {}) as Record<string, unknown>;
  const set = (value: unknown): boolean => value !== undefined && value !== null;
  if (target.type === "redis" && set(target.rules) && target.user === undefined) {
    failures.push({
      property: "target.rules",
      reason:
        "applies to an ACL user only: set target.user too (without it the database's own credentials are rotated)",
    });
  }
  if (target.type === "qstash-signing-keys") {
    if (inputs.onDelete === "rotate") {
      failures.push({
        property: "onDelete",
        reason:
          'must be "keep" for qstash-signing-keys: deleting the resource has nothing to revoke (a roll replaces only the current key and keeps the next one valid); rotate the QStash token with a "qstash" target instead',
      });
    }
    if (set(inputs.revokeAllOn)) {
      failures.push({
        property: "revokeAllOn",
        reason:
          "does not apply to qstash-signing-keys: both keys are replaced only by two rolls with a receiver rollout in between (see minRollInterval)",
      });
    }
  } else if (
    typeof target.type === "string" &&
    target.type !== UNKNOWN_VALUE &&
    set(inputs.minRollInterval)
  ) {
    failures.push({
      property: "minRollInterval",
      reason: "applies to qstash-signing-keys targets only",
    });
  }
  return failures;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

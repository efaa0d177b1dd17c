import { sha256 } from "./digest";

/** Any JSON value; the `trigger` input accepts one. */
export type TriggerValue =
  string | number | boolean | null | TriggerValue[] | { [key: string]: TriggerValue };

/** What the engine sends in place of a value that is not known yet (during preview). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value, or anything nested in it, is not known yet. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN_VALUE) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** JSON with object keys sorted at every depth, so key order never counts as a change. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The fingerprint kept in state instead of comparing raw triggers, so that a
 * large trigger is stored once and equal triggers match whatever their key order.
 */
export function triggerFingerprint(value: unknown): string {
  return sha256(canonicalJson(value));
}

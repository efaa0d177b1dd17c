import assert from "assert";
// The dynamic-provider host sends a partial failure's properties with this very call.
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { RotationState } from "../../provider";

/** The error `action` rejects with; fails the test when it resolves. */
export async function failureOf(action: Promise<unknown>): Promise<Error> {
  try {
    await action;
  } catch (error) {
    return error as Error;
  }
  assert.fail("expected the operation to fail");
}

/** The properties a partial failure asks the engine to record, unwrapped as the engine does. */
export function recordedBy(error: unknown): RotationState {
  const properties = (error as { properties?: Record<string, unknown> }).properties;
  assert.ok(properties, `not a partial failure: ${String(error)}`);
  assert.doesNotThrow(
    () => Struct.fromJavaScript(properties as never),
    "the host could not send these properties to the engine",
  );
  // Secrets travel wrapped in the engine's secret marker.
  const unwrap = (value: unknown): unknown =>
    value && typeof value === "object" && "value" in value
      ? (value as { value: unknown }).value
      : value;
  return Object.fromEntries(
    Object.entries(properties).map(([key, value]) => [key, unwrap(value)]),
  ) as unknown as RotationState;
}

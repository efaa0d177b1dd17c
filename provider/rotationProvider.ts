import type * as dynamic from "@pulumi/pulumi/dynamic";
import * as operations from "./operations";
import type { Inputs, RotationState } from "./operations";

export { CREDENTIAL_OUTPUTS, type RotationState } from "./operations";

/**
 * The dynamic provider behind `CredentialRotation`, as Pulumi serializes it
 * into every resource's state (twice): the ./operations module itself, whose
 * `configure`, `check`, `diff`, `create`, `update`, `read` and `delete` are
 * what the host calls. The serializer captures a module loaded from an
 * installed package as a `require(...)` by path, so the stored text is about
 * 240 bytes; the file backend rewrites every resource's state after each step,
 * so that text's size is paid per resource per step. Exported so that its
 * operations can be called directly (tests, other tooling). It holds no state
 * and captures nothing secret.
 */
export const credentialRotationProvider: dynamic.ResourceProvider<Inputs, RotationState> =
  operations;

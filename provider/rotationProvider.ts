import type * as dynamic from "@pulumi/pulumi/dynamic";
import {
  checkRotation,
  configureProvider,
  createRotation,
  deleteRotation,
  diffRotation,
  readRotation,
  updateRotation,
  type Inputs,
  type RotationState,
} from "./operations";

export { CREDENTIAL_OUTPUTS, type RotationState } from "./operations";

/**
 * The dynamic provider behind `CredentialRotation`, as Pulumi serializes it
 * into every resource's state (twice). It only forwards to ./operations: loaded
 * from an installed package, that module is captured as a `require(...)` by
 * path, keeping the stored text about 2.4 KB instead of the whole implementation.
 * Exported so that its operations can be called directly (tests, other
 * tooling). It holds no state and captures nothing secret.
 */
export const credentialRotationProvider: dynamic.ResourceProvider<Inputs, RotationState> = {
  async configure(request) {
    return configureProvider(request);
  },
  async check(_olds, news) {
    return checkRotation(news);
  },
  async diff(_id, olds, news) {
    return diffRotation(olds, news);
  },
  async create(inputs) {
    return createRotation(inputs);
  },
  async update(_id, olds, news) {
    return updateRotation(olds, news);
  },
  async read(id, props) {
    return readRotation(id, props);
  },
  async delete(_id, props) {
    return deleteRotation(props);
  },
};

/**
 * The provider plugin's front door: `@pulumi/pulumi/provider`'s `Provider`
 * over the same operations the dynamic provider forwards to. It only
 * translates the wire: the engine sends secrets in their envelope (the
 * operations want plain values) and expects them back in it, and notices go
 * to the engine's log.
 */
import type * as provider from "@pulumi/pulumi/provider";
import {
  CREDENTIAL_OUTPUTS,
  isSecretValue,
  secretValue,
  withoutUndefined,
  type Inputs,
  type RotationState,
} from "../common";
import { withNotices, type NoticeSink } from "../notices";
import {
  checkRotation,
  createRotation,
  deleteRotation,
  diffRotation,
  readRotation,
  updateRotation,
} from "../operations";

/** A value without secret envelopes, at any depth. */
function revealed(value: unknown): unknown {
  if (isSecretValue(value)) return revealed(value.value);
  if (Array.isArray(value)) return value.map(revealed);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, member]) => [key, revealed(member)]),
    );
  }
  return value;
}

function holdsSecret(value: unknown): boolean {
  if (isSecretValue(value)) return true;
  if (Array.isArray(value)) return value.some(holdsSecret);
  if (value && typeof value === "object") return Object.values(value).some(holdsSecret);
  return false;
}

/**
 * Properties as the operations want them, and the names of those that held a
 * secret anywhere inside: what the engine sent as secret goes back as secret.
 */
function unwrap<T>(properties: unknown): { plain: T; secretKeys: string[] } {
  const record = (properties ?? {}) as Record<string, unknown>;
  return {
    plain: revealed(record) as T,
    secretKeys: Object.keys(record).filter((key) => holdsSecret(record[key])),
  };
}

/** Credentials, and whatever was secret on the way in, in the engine's secret envelope. */
function concealed(properties: object | undefined, secretKeys: readonly string[] = []): object {
  const wrapped: Record<string, unknown> = { ...properties };
  for (const key of [...CREDENTIAL_OUTPUTS, ...secretKeys]) {
    if (wrapped[key] !== undefined && !isSecretValue(wrapped[key])) {
      wrapped[key] = secretValue(wrapped[key]);
    }
  }
  // The engine's Struct refuses `undefined` at any depth.
  return withoutUndefined(wrapped) as object;
}

/**
 * Runs one operation with its notices logged against `urn`. A partial
 * failure's recorded properties go back concealed like any answer.
 */
async function logged<T>(
  sink: NoticeSink,
  secretKeys: readonly string[],
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await withNotices(sink, operation);
  } catch (error) {
    const recorded = (error as { properties?: object } | undefined)?.properties;
    if (recorded !== undefined) {
      Object.defineProperty(error, "properties", {
        value: concealed(recorded, secretKeys),
        enumerable: false,
      });
    }
    throw error;
  }
}

/**
 * The plugin's provider. `logTo(urn)` is where an operation's notices go
 * (the engine's log, see ./engineLog).
 */
export function rotationPluginProvider(options: {
  version: string;
  schema: () => Promise<string>;
  logTo: (urn: string) => NoticeSink;
}): provider.Provider {
  const { version, logTo } = options;
  return {
    version,
    getSchema: options.schema,
    async check(_urn, _olds, news) {
      const { plain, secretKeys } = unwrap<Inputs>(news);
      const { inputs, failures } = await checkRotation(plain);
      return { inputs: concealed(inputs, secretKeys), failures };
    },
    async diff(_id, _urn, olds, news) {
      return diffRotation(unwrap<RotationState>(olds).plain, unwrap<Inputs>(news).plain);
    },
    async create(urn, inputs) {
      const { plain, secretKeys } = unwrap<Inputs>(inputs);
      const { id, outs } = await logged(logTo(urn), secretKeys, () => createRotation(plain));
      return { id, outs: concealed(outs, secretKeys) };
    },
    async read(id, urn, props) {
      const { plain, secretKeys } = unwrap<RotationState>(props);
      const result = await logged(logTo(urn), secretKeys, () => readRotation(id, plain));
      return {
        id: result.id,
        props: concealed(result.props, secretKeys),
        inputs: result.inputs === undefined ? undefined : concealed(result.inputs, secretKeys),
      };
    },
    async update(_id, urn, olds, news) {
      const { plain, secretKeys } = unwrap<Inputs>(news);
      const { outs } = await logged(logTo(urn), secretKeys, () =>
        updateRotation(unwrap<RotationState>(olds).plain, plain),
      );
      return { outs: concealed(outs, secretKeys) };
    },
    async delete(_id, urn, props) {
      await logged(logTo(urn), [], () => deleteRotation(unwrap<RotationState>(props).plain));
    },
  };
}

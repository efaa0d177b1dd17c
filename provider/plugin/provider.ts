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

/** What a walk through one property found inside secret envelopes. */
interface SecretsFound {
  any: boolean;
  /** The strings inside them, at any depth. */
  strings: string[];
}

/** `value` without secret envelopes, at any depth, noting in `found` what they held. */
function revealed(value: unknown, found: SecretsFound, inSecret = false): unknown {
  if (isSecretValue(value)) {
    found.any = true;
    return revealed(value.value, found, true);
  }
  if (typeof value === "string" && inSecret) found.strings.push(value);
  if (Array.isArray(value)) return value.map((item) => revealed(item, found, inSecret));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, member]) => [key, revealed(member, found, inSecret)]),
    );
  }
  return value;
}

/** Properties as the operations want them, with what was secret in them. */
interface Unwrapped<T> {
  plain: T;
  /** Top-level names that held a secret anywhere inside: they go back as secret. */
  secretKeys: string[];
  /** The secret strings themselves, kept out of every message. */
  secrets: string[];
}

function unwrap<T>(properties: unknown): Unwrapped<T> {
  const plain: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  const secrets: string[] = [];
  for (const [key, value] of Object.entries((properties ?? {}) as Record<string, unknown>)) {
    const found: SecretsFound = { any: false, strings: [] };
    plain[key] = revealed(value, found);
    if (found.any) secretKeys.push(key);
    // Short values (a secret `true`, a one-letter trigger) would blank out ordinary words.
    secrets.push(...found.strings.filter((secret) => secret.length >= 6));
  }
  return { plain: plain as T, secretKeys, secrets };
}

/** `text` with every secret string replaced by `[secret]`. */
function redacted(text: string, secrets: readonly string[]): string {
  return secrets.reduce((result, secret) => result.split(secret).join("[secret]"), text);
}

/**
 * Credentials, and whatever was secret on the way in, in the engine's secret
 * envelope. A secret target also keeps the id and user read from it secret.
 */
function concealed(properties: object | undefined, secretKeys: readonly string[] = []): object {
  const wrapped: Record<string, unknown> = { ...properties };
  const fromTarget = secretKeys.includes("target") ? ["resourceId", "user"] : [];
  for (const key of [...CREDENTIAL_OUTPUTS, ...secretKeys, ...fromTarget]) {
    if (wrapped[key] !== undefined && !isSecretValue(wrapped[key])) {
      wrapped[key] = secretValue(wrapped[key]);
    }
  }
  // The engine's Struct refuses `undefined` at any depth.
  return withoutUndefined(wrapped) as object;
}

/**
 * Runs one operation with its notices logged against `urn`. Neither a notice
 * nor an error message quotes a value that arrived secret (say, a token
 * pasted as a database id), and a partial failure's recorded properties go
 * back concealed like any answer.
 */
async function logged<T>(
  sink: NoticeSink,
  { secretKeys, secrets }: Pick<Unwrapped<unknown>, "secretKeys" | "secrets">,
  operation: () => Promise<T>,
): Promise<T> {
  const quiet: NoticeSink = (severity, message) => sink(severity, redacted(message, secrets));
  try {
    return await withNotices(quiet, operation);
  } catch (error) {
    if (error instanceof Error) error.message = redacted(error.message, secrets);
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
      const given = unwrap<Inputs>(inputs);
      const { id, outs } = await logged(logTo(urn), given, () => createRotation(given.plain));
      return { id, outs: concealed(outs, given.secretKeys) };
    },
    async read(id, urn, props) {
      const recorded = unwrap<RotationState>(props);
      const result = await logged(logTo(urn), recorded, () => readRotation(id, recorded.plain));
      return {
        id: result.id,
        props: concealed(result.props, recorded.secretKeys),
        inputs:
          result.inputs === undefined ? undefined : concealed(result.inputs, recorded.secretKeys),
      };
    },
    async update(_id, urn, olds, news) {
      const given = unwrap<Inputs>(news);
      const before = unwrap<RotationState>(olds);
      const { outs } = await logged(logTo(urn), given, () =>
        updateRotation(before.plain, given.plain),
      );
      return { outs: concealed(outs, given.secretKeys) };
    },
    async delete(_id, urn, props) {
      const recorded = unwrap<RotationState>(props);
      await logged(logTo(urn), recorded, () => deleteRotation(recorded.plain));
    },
  };
}

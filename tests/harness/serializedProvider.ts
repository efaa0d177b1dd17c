import Module from "module";
import path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as dynamic from "@pulumi/pulumi/dynamic";
import { credentialRotationProvider } from "../../provider";

/**
 * The provider as `pulumi.dynamic.Resource` serializes it into the `__provider`
 * input: this repository's copy by default, or another (e.g. an installed one).
 */
export async function serializeProvider(
  provider: dynamic.ResourceProvider = credentialRotationProvider as dynamic.ResourceProvider,
): Promise<{ text: string; containsSecrets: boolean }> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider, {
    allowSecrets: true,
  });
  return { text: serialized.text, containsSecrets: serialized.containsSecrets };
}

/**
 * What the dynamic-provider host does with `__provider`: compile it as a module
 * whose packages resolve from `dir` (the program's folder) and call `handler()`.
 */
export function loadSerializedProvider(
  text: string,
  dir: string = process.cwd(),
): dynamic.ResourceProvider {
  const filename = path.join(dir, "__provider.js");
  const loaded = new Module(filename, module) as Module & {
    _compile(code: string, file: string): void;
  };
  loaded.filename = filename;
  loaded.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    dir,
  );
  loaded._compile(text, filename);
  return (loaded.exports as { handler: () => dynamic.ResourceProvider }).handler();
}

/**
 * Serves `upstash-rotation:index:CredentialRotation` as a Pulumi provider
 * plugin (plugin/index.js calls this). The engine starts the plugin with its
 * own address as the first argument.
 */
import { readFile } from "fs/promises";
import { main } from "@pulumi/pulumi/provider";
import * as internals from "@pulumi/pulumi/provider/internals";
import { withoutStackConfigTier } from "../credentialSources";
import { engineLogSink } from "./engineLog";
import { rotationPluginProvider } from "./provider";

// The server's own argument parsing (marked internal), so both read the same engine address.
const { parseArgs } = internals as unknown as {
  parseArgs(args: string[]): { engineAddress: string } | undefined;
};

/**
 * `schemaFile` holds the schema that `pulumi package add` and `gen-sdk`
 * ask for; it is written at install time (./writeSchema).
 */
export function serve(version: string, schemaFile: string, args: string[]): Promise<void> {
  withoutStackConfigTier();
  const provider = rotationPluginProvider({
    version,
    schema: () => readFile(schemaFile, "utf8"),
    logTo: engineLogSink(parseArgs(args)?.engineAddress),
  });
  return main(provider, args);
}

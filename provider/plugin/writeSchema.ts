/**
 * Writes the plugin's schema.json from the provider's TypeScript sources:
 * `node writeSchema.js <provider source folder> <plugin package.json> <out file>`
 * (the version comes from that package.json). The plugin's install step runs
 * it, so the schema always matches the code.
 */
import { readFileSync, writeFileSync } from "fs";
import { generateSchema } from "./schema";

if (require.main === module) {
  const [sourceDir, manifest, outFile] = process.argv.slice(2);
  if (!sourceDir || !manifest || !outFile) {
    console.error("usage: writeSchema <provider source folder> <plugin package.json> <out file>");
    process.exit(2);
  }
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  writeFileSync(outFile, `${JSON.stringify(generateSchema(sourceDir, version), null, 2)}\n`);
}

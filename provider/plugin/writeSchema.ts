/**
 * Writes the plugin's schema.json from the provider's TypeScript sources:
 * `node writeSchema.js <provider source folder> <version> <out file>`. The
 * plugin's install step runs it, so the schema always matches the code.
 */
import { writeFileSync } from "fs";
import { generateSchema } from "./schema";

if (require.main === module) {
  const [sourceDir, version, outFile] = process.argv.slice(2);
  if (!sourceDir || !version || !outFile) {
    console.error("usage: writeSchema <provider source folder> <version> <out file>");
    process.exit(2);
  }
  writeFileSync(outFile, `${JSON.stringify(generateSchema(sourceDir, version), null, 2)}\n`);
}

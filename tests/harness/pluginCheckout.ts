import { cpSync } from "fs";
import path from "path";
import { REPO_ROOT } from "./pulumiHarness";

/**
 * What a clean checkout holds for the plugin: plugin/ (without anything its
 * install step builds) and the provider sources it compiles.
 */
export function checkoutPlugin(rootDir: string): string {
  const checkout = path.join(rootDir, "checkout");
  const built = new Set(["node_modules", "bin", "schema.json"]);
  cpSync(path.join(REPO_ROOT, "plugin"), path.join(checkout, "plugin"), {
    recursive: true,
    filter: (source) => !built.has(path.basename(source)),
  });
  cpSync(path.join(REPO_ROOT, "provider"), path.join(checkout, "provider"), { recursive: true });
  return path.join(checkout, "plugin");
}

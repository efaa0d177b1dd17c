import { cpSync, mkdirSync, mkdtempSync } from "fs";
import path from "path";
import { REPO_ROOT } from "./pulumiHarness";

/** `.pulumi-work/` in the repository: gitignored, and ignored by eslint and prettier. */
export const WORK_ROOT = path.join(REPO_ROOT, ".pulumi-work");

/**
 * A fresh folder `.pulumi-work/<prefix>-XXXXXX/`. Each call gets its own, so
 * several runs (or engineers) never share one.
 */
export function makeTempRoot(prefix: string): string {
  mkdirSync(WORK_ROOT, { recursive: true });
  return mkdtempSync(path.join(WORK_ROOT, `${prefix}-`));
}

/**
 * Copies the project folder `sourceDir` (e.g. `examples/quickstart`) to
 * `destDir`, leaving out what a user would not copy: installed packages,
 * compiled output and stack config files.
 */
export function copyProject(sourceDir: string, destDir: string): string {
  const left = new Set(["node_modules", "bin"]);
  cpSync(sourceDir, destDir, {
    recursive: true,
    filter: (source) => {
      const name = path.basename(source);
      return !left.has(name) && !/^Pulumi\..+\.yaml$/.test(name);
    },
  });
  return destDir;
}

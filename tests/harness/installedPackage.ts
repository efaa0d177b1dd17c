import { execFileSync } from "child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "fs";
import path from "path";
import { REPO_ROOT } from "./pulumiHarness";

/**
 * This package as a user gets it: built, packed with `npm pack` and unpacked
 * into `node_modules` of a project folder under `.pulumi-work/`. Its other
 * packages resolve from the repository's node_modules further up. Returns the
 * project folder (run Pulumi there so the provider host finds the package).
 */
export function installPackedPackage(): { projectDir: string; packageDir: string } {
  const projectDir = path.join(REPO_ROOT, ".pulumi-work", "installed");
  const packageDir = path.join(projectDir, "node_modules", "pulumi-upstash-credential-rotation");
  rmSync(projectDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  // A project of its own: without it, Node resolves the package's name through the
  // repository's `exports` map to the repository's dist/ instead of node_modules.
  writeFileSync(
    path.join(projectDir, "package.json"),
    JSON.stringify({ name: "installed-project", private: true }),
  );
  execFileSync("npm", ["pack", "--silent", "--pack-destination", projectDir], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = readdirSync(projectDir).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack produced no tarball");
  execFileSync("tar", [
    "-xzf",
    path.join(projectDir, tarball),
    "-C",
    packageDir,
    "--strip-components=1",
  ]);
  return { projectDir, packageDir };
}

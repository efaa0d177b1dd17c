import { execFileSync } from "child_process";
import { mkdirSync, readdirSync, writeFileSync } from "fs";
import path from "path";
import { REPO_ROOT } from "./pulumiHarness";

export const PACKAGE_NAME = "pulumi-upstash-credential-rotation";

/**
 * `npm pack` of this repository into `destDir` (its `prepare` builds dist/
 * first), as `npm publish` would upload it. Returns the tarball's path.
 */
export function packPackage(destDir: string): string {
  mkdirSync(destDir, { recursive: true });
  execFileSync("npm", ["pack", "--silent", "--pack-destination", destDir], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const tarball = readdirSync(destDir).find(
    (name) => name.startsWith(`${PACKAGE_NAME}-`) && name.endsWith(".tgz"),
  );
  if (!tarball) throw new Error(`npm pack produced no tarball in ${destDir}`);
  return path.join(destDir, tarball);
}

/** One file as `npm pack --dry-run --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
}

/** What `npm pack` would put in the tarball, without writing it (the build still runs). */
export function packedFiles(): PackedFile[] {
  const output = execFileSync("npm", ["pack", "--dry-run", "--json"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 16 * 1024 * 1024,
  });
  // Lifecycle-script output goes to stderr; stdout holds the JSON array.
  const parsed = JSON.parse(output.slice(output.indexOf("["))) as { files: PackedFile[] }[];
  return parsed[0].files;
}

/**
 * Unpacks `tarball` into `<projectDir>/node_modules/<name>` the way `npm
 * install` lays it out, and gives `projectDir` a package.json of its own. That
 * package.json matters: without one the repository's package.json is the
 * package scope of files in `projectDir`, and Node resolves the package's own
 * name by self-reference to the repository's dist/ instead of the unpacked copy.
 * Dependencies (axios, zod) resolve from the repository's node_modules further up.
 */
export function unpackIntoProject(tarball: string, projectDir: string): string {
  const packageDir = path.join(projectDir, "node_modules", PACKAGE_NAME);
  mkdirSync(packageDir, { recursive: true });
  writeFileSync(
    path.join(projectDir, "package.json"),
    `${JSON.stringify({ name: "packed-package-consumer", private: true }, null, 2)}\n`,
  );
  execFileSync("tar", ["-xzf", tarball, "-C", packageDir, "--strip-components=1"]);
  return packageDir;
}

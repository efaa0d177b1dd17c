import assert from "assert";
import { readFileSync } from "fs";
import path from "path";
import { REPO_ROOT } from "../harness/pulumiHarness";

interface Manifest {
  version: string;
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const manifest = (file: string): Manifest =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, file), "utf8")) as Manifest;

describe("plugin/package.json: the plugin installs what the package runs on", () => {
  const root = manifest("package.json");
  const plugin = manifest("plugin/package.json");
  const lock = manifest("plugin/package-lock.json") as unknown as {
    packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
  };

  it("has the package's version, its run-time dependencies, and the @pulumi/pulumi and TypeScript it is built with", () => {
    assert.strictEqual(plugin.version, root.version);
    assert.deepStrictEqual(plugin.dependencies, {
      "@pulumi/pulumi": root.devDependencies!["@pulumi/pulumi"],
      ...root.dependencies,
      typescript: root.devDependencies!.typescript,
    });
  });

  it("has a lock file that matches it", () => {
    assert.deepStrictEqual(lock.packages[""].dependencies, plugin.dependencies);
    assert.strictEqual(lock.packages["node_modules/@pulumi/pulumi"].version, "3.248.0");
    assert.match(lock.packages["node_modules/typescript"].version!, /^5\.9\./);
  });

  it("builds itself on install, and its entry serves what the build writes", () => {
    assert.strictEqual(plugin.scripts?.postinstall, "npm run build");
    assert.match(plugin.scripts?.build ?? "", /tsc -p tsconfig\.json/);
    assert.match(
      plugin.scripts?.build ?? "",
      /writeSchema\.js \.\.\/provider package\.json schema\.json/,
    );
    const entry = readFileSync(path.join(REPO_ROOT, "plugin", plugin.main ?? "index.js"), "utf8");
    assert.match(entry, /\.\/bin\/provider\/plugin\/main/);
    assert.match(entry, /"schema\.json"/);
  });
});

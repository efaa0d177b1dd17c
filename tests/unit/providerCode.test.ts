import assert from "assert";
import { sameProviderCode } from "../../provider/common";

const OPERATIONS = 'require("pulumi-upstash-credential-rotation/dist/provider/operations.js")';
/** 0.1.0's shape: a forwarding method per operation. */
const forwarder = `exports.handler = __f0;\nconst operations_1 = ${OPERATIONS};\nfunction __f4(__0) { return (0, operations_1.createRotation)(__0); }\n`;
/** The current shape: the module itself. */
const moduleItself = `exports.handler = __f0;\nconst provider = ${OPERATIONS};\n`;
/** From this repository's sources: the code itself, by value. */
const byValue = (code: string): string =>
  `exports.handler = __f0;\nconst axios = require("axios/dist/node/axios.cjs");\n${code}\n`;

describe("sameProviderCode", () => {
  it("takes any two texts that only require the installed operations module as the same code", () => {
    assert.ok(sameProviderCode(forwarder, moduleItself));
    assert.ok(sameProviderCode(moduleItself, forwarder));
  });

  it("takes any other change of the text as new code", () => {
    assert.ok(sameProviderCode(byValue("a"), byValue("a")));
    assert.ok(!sameProviderCode(byValue("a"), byValue("b")));
    assert.ok(!sameProviderCode(forwarder, byValue("a")));
    assert.ok(!sameProviderCode(`${moduleItself}const extra = require("zod");\n`, forwarder));
    assert.ok(!sameProviderCode(undefined, moduleItself));
  });
});

import assert from "assert";
import Module from "module";
import { FIXTURE_IDS } from "../../emulator/state";
import { createThroughProvider, provider, useEmulator } from "../helpers/emulator";
import { failureOf } from "../helpers/failures";
import { assertNoSecrets } from "../helpers/secrets";

type Resolver = (request: string, ...rest: unknown[]) => string;
const modules = Module as unknown as { _resolveFilename: Resolver };

/**
 * The provider's libraries load on first use (provider/libraries.ts). An install that lacks one
 * must fail saying so, in the middle of an operation too, not as Upstash's answer or a credential
 * the data plane refused.
 */
describe("a library missing from the install", () => {
  const ctx = useEmulator();
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  /** From now on, requiring `library` fails as it does when it is not installed. */
  function uninstall(library: string): void {
    const resolve = modules._resolveFilename;
    const cached = Object.keys(require.cache).filter((file) =>
      file.includes(`/node_modules/${library}/`),
    );
    const entries = cached.map((file) => [file, require.cache[file]] as const);
    for (const file of cached) delete require.cache[file];
    modules._resolveFilename = function (request, ...rest) {
      if (request === library) throw new Error(`Cannot find module '${library}'`);
      return resolve.call(this, request, ...rest);
    };
    restore = () => {
      modules._resolveFilename = resolve;
      for (const [file, entry] of entries) require.cache[file] = entry;
    };
  }

  it("a delete that revokes says which dependency to reinstall, not that Upstash answered oddly", async () => {
    const created = await createThroughProvider({
      target: { type: "redis", databaseId: FIXTURE_IDS.redis },
      trigger: 1,
      onDelete: "rotate",
    });
    // A fresh provider host: zod's schemas were never built in it.
    delete (globalThis as Record<string, unknown>).__upstashCredentialRotationResponseSchemas;
    uninstall("zod");
    const error = await failureOf(provider.delete!(created.id, created.state));
    assert.match(error.message, /could not load its dependency "zod"/);
    assert.match(error.message, /npm install/);
    assert.doesNotMatch(error.message, /expected shape|HTTP 200/);
    assert.strictEqual(ctx.emulator.rotations().length, 1, "the delete reset without reading");
    assertNoSecrets(error);
  });

  it("a proof that cannot load its client says the credential could not be proven, not that it was rejected", async () => {
    uninstall("ioredis");
    const error = await failureOf(
      createThroughProvider({
        target: { type: "redis", databaseId: FIXTURE_IDS.redis },
        trigger: 1,
      }),
    );
    assert.match(error.message, /the new credential could not be proven/);
    assert.match(error.message, /could not load its dependency "ioredis"/);
    assert.doesNotMatch(error.message, /data plane rejected/);
    assertNoSecrets(error);
  });
});

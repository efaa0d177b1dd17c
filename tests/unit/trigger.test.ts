import assert from "assert";
import { canonicalJson, rotationWindow, triggerFingerprint } from "../../provider";
import { containsUnknown, UNKNOWN_VALUE } from "../../provider/trigger";

describe("trigger canonicalisation", () => {
  it("ignores key order at every depth", () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: "s" } };
    const b = { a: { x: "s", y: [1, { p: 2, q: 1 }] }, b: 1 };
    assert.strictEqual(canonicalJson(a), canonicalJson(b));
    assert.strictEqual(triggerFingerprint(a), triggerFingerprint(b));
    assert.strictEqual(canonicalJson(a), '{"a":{"x":"s","y":[1,{"p":2,"q":1}]},"b":1}');
  });

  it("distinguishes values, types and array order", () => {
    const fingerprints = [1, "1", [1, 2], [2, 1], { a: 1 }, { a: 2 }, null, true].map(
      triggerFingerprint,
    );
    assert.strictEqual(new Set(fingerprints).size, fingerprints.length);
  });

  it("finds unknown values nested anywhere", () => {
    assert.ok(containsUnknown({ a: [1, { b: UNKNOWN_VALUE }] }));
    assert.ok(!containsUnknown({ a: [1, { b: "known" }] }));
  });
});

describe("rotationWindow", () => {
  const at = (iso: string): Date => new Date(iso);

  it("is stable within a window and changes when it rolls over", () => {
    const first = rotationWindow("1d", { now: at("2026-11-22T00:00:00Z") });
    assert.strictEqual(first, rotationWindow("1d", { now: at("2026-11-22T23:59:59.999Z") }));
    assert.notStrictEqual(first, rotationWindow("1d", { now: at("2026-11-23T00:00:00Z") }));
    assert.strictEqual(first, "1d@2026-11-22T00:00:00.000Z");
  });

  it("counts windows from the anchor", () => {
    const anchor = at("2026-01-01T00:00:00Z");
    assert.strictEqual(
      rotationWindow("30d", { anchor, now: at("2026-02-15T12:00:00Z") }),
      "30d@2026-01-31T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("12h", { anchor, now: at("2026-01-01T11:00:00Z") }),
      "12h@2026-01-01T00:00:00.000Z",
    );
  });

  it("rejects periods it cannot place", () => {
    for (const bad of ["", "0d", "30", "1.5d", "-1d", "1y"]) {
      assert.throws(() => rotationWindow(bad), /not a positive whole number/);
    }
  });
});

import assert from "assert";
import fc from "fast-check";
import { rotationWindow } from "../../provider";

const at = (iso: string): Date => new Date(iso);

describe("rotationWindow units", () => {
  it("writes hours, days and weeks exactly as before", () => {
    const now = at("2026-11-22T13:45:00Z");
    assert.strictEqual(rotationWindow("30d", { now }), "30d@2026-11-03T00:00:00.000Z");
    assert.strictEqual(rotationWindow("6h", { now }), "6h@2026-11-22T12:00:00.000Z");
    assert.strictEqual(rotationWindow("2w", { now }), "2w@2026-11-19T00:00:00.000Z");
    assert.strictEqual(rotationWindow(" 1d ", { now }), "1d@2026-11-22T00:00:00.000Z");
  });

  it("gives the same value as the original formula for h, d, w, and min as m", () => {
    const original = (count: number, unit: string, anchor: number, now: number): string => {
      const length = count * { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit]!;
      const start = anchor + Math.floor((now - anchor) / length) * length;
      return `${count}${unit}@${new Date(start).toISOString()}`;
    };
    const moment = fc.integer({ min: -2e12, max: 5e12 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.constantFrom("min", "h", "d", "w"),
        moment,
        moment,
        (count, unit, anchor, now) => {
          const legacy = unit === "min" ? "m" : unit;
          assert.strictEqual(
            rotationWindow(`${count}${unit}`, { anchor: new Date(anchor), now: new Date(now) }),
            original(count, legacy, anchor, now),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("takes min for minutes and writes the value as the old m did", () => {
    const now = at("2026-11-22T13:47:30Z");
    assert.strictEqual(rotationWindow("15min", { now }), "15m@2026-11-22T13:45:00.000Z");
    assert.strictEqual(
      rotationWindow("15min", { now }),
      rotationWindow("15min", { now: at("2026-11-22T13:59:59.999Z") }),
    );
    assert.strictEqual(
      rotationWindow("15min", { now: at("2026-11-22T14:00:00Z") }),
      "15m@2026-11-22T14:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("90min", { now, anchor: at("2026-11-22T00:10:00Z") }),
      "90m@2026-11-22T13:40:00.000Z",
    );
  });

  it("refuses a bare m as ambiguous, offering min and mo", () => {
    for (const [period, count] of [
      ["6m", "6"],
      ["15m", "15"],
      [" 1 m ", "1"],
    ]) {
      assert.throws(
        () => rotationWindow(period),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, /ambiguous/);
          assert.ok(error.message.includes(`"${count}min"`), error.message);
          assert.ok(error.message.includes(`"${count}mo"`), error.message);
          assert.match(error.message, /minutes/);
          assert.match(error.message, /months/);
          return true;
        },
        period,
      );
    }
  });

  it("rejects other periods, listing the units", () => {
    for (const bad of ["", "0mo", "0min", "1.5mo", "-1mo", "1y", "1M", "1month", "mo", "1 mi"]) {
      assert.throws(
        () => rotationWindow(bad),
        /not a positive whole number of min, h, d, w or mo/,
        JSON.stringify(bad),
      );
    }
  });
});

describe("rotationWindow months", () => {
  it("changes on the 1st of every month at midnight UTC", () => {
    assert.strictEqual(
      rotationWindow("1mo", { now: at("2026-11-22T13:45:00Z") }),
      "1mo@2026-11-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("1mo", { now: at("2026-11-30T23:59:59.999Z") }),
      "1mo@2026-11-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("1mo", { now: at("2026-12-01T00:00:00Z") }),
      "1mo@2026-12-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("1mo", { now: at("2028-02-29T12:00:00Z") }),
      "1mo@2028-02-01T00:00:00.000Z",
    );
  });

  it("counts quarters from January by default", () => {
    const expected: Record<string, string> = {
      "2026-01-01T00:00:00Z": "2026-01-01",
      "2026-03-31T23:59:59.999Z": "2026-01-01",
      "2026-04-01T00:00:00Z": "2026-04-01",
      "2026-08-15T00:00:00Z": "2026-07-01",
      "2026-11-22T00:00:00Z": "2026-10-01",
      "2026-12-31T23:59:59.999Z": "2026-10-01",
      "2027-01-01T00:00:00Z": "2027-01-01",
      "2027-02-10T00:00:00Z": "2027-01-01",
    };
    for (const [now, start] of Object.entries(expected)) {
      assert.strictEqual(
        rotationWindow("3mo", { now: at(now) }),
        `3mo@${start}T00:00:00.000Z`,
        now,
      );
    }
  });

  it("crosses year boundaries for periods that do not divide a year", () => {
    // 5-month windows from January 1970: 2026-11 is 682 months in, 682 = 5 * 136 + 2.
    assert.strictEqual(
      rotationWindow("5mo", { now: at("2026-11-22T00:00:00Z") }),
      "5mo@2026-09-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("5mo", { now: at("2027-01-31T00:00:00Z") }),
      "5mo@2026-09-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("5mo", { now: at("2027-02-01T00:00:00Z") }),
      "5mo@2027-02-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("24mo", { now: at("2027-06-01T00:00:00Z") }),
      "24mo@2026-01-01T00:00:00.000Z",
    );
  });

  it("starts windows on the 1st even with a mid-month anchor; the anchor picks the first month", () => {
    const anchor = at("2026-02-15T09:30:00Z");
    const expected: Record<string, string> = {
      "2026-02-01T00:00:00Z": "2026-02-01",
      "2026-02-14T00:00:00Z": "2026-02-01",
      "2026-04-30T23:59:59.999Z": "2026-02-01",
      "2026-05-01T00:00:00Z": "2026-05-01",
      "2026-12-31T00:00:00Z": "2026-11-01",
      "2027-01-31T00:00:00Z": "2026-11-01",
      "2027-02-01T00:00:00Z": "2027-02-01",
      "2026-01-31T00:00:00Z": "2025-11-01",
    };
    for (const [now, start] of Object.entries(expected)) {
      assert.strictEqual(
        rotationWindow("3mo", { anchor, now: at(now) }),
        `3mo@${start}T00:00:00.000Z`,
        now,
      );
    }
  });

  it("places moments before the anchor in earlier windows", () => {
    assert.strictEqual(
      rotationWindow("12mo", {
        anchor: at("2030-07-01T00:00:00Z"),
        now: at("2026-11-22T00:00:00Z"),
      }),
      "12mo@2026-07-01T00:00:00.000Z",
    );
    assert.strictEqual(
      rotationWindow("1mo", { now: at("1969-12-31T23:59:59Z") }),
      "1mo@1969-12-01T00:00:00.000Z",
    );
  });
});

/** Options for {@link rotationWindow}. */
export interface RotationWindowOptions {
  /** The moment to place in a window; defaults to now. */
  now?: Date;
  /**
   * Where the first window starts; defaults to the Unix epoch, so day and week
   * windows start at 00:00 UTC. For month periods (`mo`) only the anchor's
   * month counts (in UTC): windows still start on the 1st at 00:00 UTC, and
   * the anchor's month is the first month of a window. E.g. `"3mo"` with an
   * anchor anywhere in February 2026 gives windows starting Feb 1, May 1,
   * Aug 1 and Nov 1.
   */
  anchor?: Date;
}

/**
 * A trigger value that stays the same within a time window and changes when
 * the window rolls over, so a scheduled `pulumi up` rotates on a calendar:
 * `trigger: rotationWindow("30d")`.
 *
 * A period is a positive whole number followed by a unit:
 * - `min` minutes, `h` hours, `d` days, `w` weeks: fixed-length windows
 *   counted from the anchor (default: the Unix epoch, so they align to UTC);
 * - `mo` calendar months in UTC: windows start on the 1st of a month at
 *   00:00 UTC, counted in whole months from the anchor's month. With the
 *   default anchor, `"1mo"` changes on the 1st of every month and `"3mo"` on
 *   January, April, July and October 1st.
 *
 * A bare `m` (e.g. `"6m"`) throws: it could mean minutes or months, so write
 * `"6min"` or `"6mo"`.
 *
 * The value names the window's start, e.g. `30d@2026-11-03T00:00:00.000Z` or
 * `3mo@2026-10-01T00:00:00.000Z`. Minute windows are written with `m`, e.g.
 * `15m@2026-11-22T13:45:00.000Z` for `"15min"`: the value that versions
 * before `min` existed gave for `"15m"`, so switching `"15m"` to `"15min"`
 * does not change the trigger.
 */
export function rotationWindow(period: string, options: RotationWindowOptions = {}): string {
  const match = /^\s*(\d+)\s*(min|mo|m|h|d|w)\s*$/.exec(period);
  const count = match ? Number(match[1]) : 0;
  if (!match || count <= 0 || !Number.isSafeInteger(count)) {
    throw new Error(
      `rotationWindow: period "${period}" is not a positive whole number of min, h, d, w or mo (e.g. "30d" or "3mo")`,
    );
  }
  const unit = match[2];
  if (unit === "m") {
    throw new Error(
      `rotationWindow: period "${period}" is ambiguous: write "${count}min" for ${count} minutes or "${count}mo" for ${count} calendar months`,
    );
  }
  const anchor = options.anchor ?? new Date(0);
  const now = options.now ?? new Date();

  if (unit === "mo") {
    const monthOf = (date: Date): number => date.getUTCFullYear() * 12 + date.getUTCMonth();
    const first = monthOf(anchor);
    const month = first + Math.floor((monthOf(now) - first) / count) * count;
    const start = new Date(0);
    start.setUTCFullYear(Math.floor(month / 12), month - Math.floor(month / 12) * 12, 1);
    return `${count}mo@${start.toISOString()}`;
  }

  // Minutes are written "m", as before "min" existed, so the value stays the same.
  const [label, unitMs] = (
    {
      min: ["m", 60_000],
      h: ["h", 3_600_000],
      d: ["d", 86_400_000],
      w: ["w", 604_800_000],
    } as const
  )[unit as "min" | "h" | "d" | "w"];
  const length = count * unitMs;
  const start = anchor.getTime() + Math.floor((now.getTime() - anchor.getTime()) / length) * length;
  return `${count}${label}@${new Date(start).toISOString()}`;
}

const PERIOD = /^\s*(\d+)\s*(min|mo|h|d|w)\s*$/;

/**
 * Whether `period` is a duration in {@link rotationWindow}'s units (`min`, `h`,
 * `d`, `w`, `mo`), zero included; a bare `m` is not (it is ambiguous).
 */
export function isPeriod(period: string): boolean {
  const match = PERIOD.exec(period);
  return match !== null && Number.isSafeInteger(Number(match[1]));
}

/**
 * The moment `period` after `from`: `mo` counts calendar months in UTC (the
 * day clamped to the month's last), the other units fixed lengths. Throws on
 * a period {@link isPeriod} refuses.
 */
export function periodEnd(period: string, from: Date): Date {
  const match = PERIOD.exec(period);
  if (!match || !isPeriod(period)) {
    throw new Error(`"${period}" is not a whole number of min, h, d, w or mo`);
  }
  const count = Number(match[1]);
  if (match[2] === "mo") {
    const end = new Date(from.getTime());
    const day = end.getUTCDate();
    end.setUTCDate(1);
    end.setUTCMonth(end.getUTCMonth() + count);
    const last = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 0)).getUTCDate();
    end.setUTCDate(Math.min(day, last));
    return end;
  }
  const unitMs = { min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[
    match[2] as "min" | "h" | "d" | "w"
  ];
  return new Date(from.getTime() + count * unitMs);
}

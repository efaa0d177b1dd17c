/** Options for {@link rotationWindow}. */
export interface RotationWindowOptions {
  /** The moment to place in a window; defaults to now. */
  now?: Date;
  /** Where the first window starts; defaults to the Unix epoch (windows align to UTC midnight for day periods). */
  anchor?: Date;
}

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A trigger value that stays the same within a time window and changes when
 * the window rolls over, so a scheduled `pulumi up` rotates on a calendar:
 * `trigger: rotationWindow("30d")`. Periods are a whole number of minutes (`m`),
 * hours (`h`), days (`d`) or weeks (`w`).
 *
 * The value names the window's start, e.g. `30d@2026-11-15T00:00:00.000Z`.
 */
export function rotationWindow(period: string, options: RotationWindowOptions = {}): string {
  const match = /^\s*(\d+)\s*([mhdw])\s*$/.exec(period);
  const count = match ? Number(match[1]) : 0;
  if (!match || count <= 0 || !Number.isSafeInteger(count)) {
    throw new Error(
      `rotationWindow: period "${period}" is not a positive whole number of m, h, d or w (e.g. "30d")`,
    );
  }
  const length = count * UNIT_MS[match[2]];
  const anchor = (options.anchor ?? new Date(0)).getTime();
  const now = (options.now ?? new Date()).getTime();
  const start = anchor + Math.floor((now - anchor) / length) * length;
  return `${count}${match[2]}@${new Date(start).toISOString()}`;
}

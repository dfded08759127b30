/**
 * The pure parts of the operator charts: y-axis scales (linear from 0 to a
 * round top, or logarithmic over whole decades) and the number formats of
 * axis labels, legends and tables. No DOM here, so tests run it in Node.
 */

/** How the y axis is scaled. */
export interface ChartScale {
  /**
   * Logarithmic, gridlines at powers of ten: for latency, where a 1 ms p50
   * and a 1 s p99 must both be readable. Values at or below 0 sit on the floor.
   */
  log?: boolean;
  /** Values are whole numbers (streams, sockets): gridlines land on integers. */
  integer?: boolean;
  /** The top of the axis is at least this (so an all-zero chart is not drawn at full height). */
  minTop?: number;
  /** A fixed top (e.g. 1 for ratios), whatever the values. */
  fixedTop?: number;
}

/** A y axis: its gridline values, bottom first, and where a value sits (0 at the bottom, 1 at the top). */
export interface YAxis {
  ticks: number[];
  position: (value: number) => number;
}

/** The lowest decade a log axis goes down to: 100 µs for seconds. */
const LOG_FLOOR = 1e-4;

/** The y axis for these values: linear from 0 with three gridlines, or logarithmic over whole decades. */
export function yAxis(values: readonly number[], scale: ChartScale = {}): YAxis {
  if (scale.log) {
    const positive = values.filter((v) => v > 0);
    // The epsilons keep an exact power of ten (log10 a hair off) in its own decade.
    const high = Math.max(Math.ceil(Math.log10(Math.max(scale.minTop ?? 1e-3, ...positive)) - 1e-9), -3);
    let low = Math.floor(Math.log10(Math.min(...positive, 10 ** high)) + 1e-9);
    low = Math.min(Math.max(low, Math.log10(LOG_FLOOR)), high - 1);
    // More than four decades: a gridline every other decade, the bottom one a gridline too.
    const step = high - low > 4 ? 2 : 1;
    low = high - step * Math.ceil((high - low) / step);
    const ticks: number[] = [];
    // `1e${d}` is exact where 10 ** d is not (10 ** -4 is 0.00009999…).
    for (let d = low; d <= high; d += step) ticks.push(Number(`1e${d}`));
    const bottom = Math.log10(ticks[0]!);
    return {
      ticks,
      position: (v) => (v <= 0 ? 0 : Math.min(Math.max((Math.log10(v) - bottom) / (high - bottom), 0), 1)),
    };
  }
  const top = scale.fixedTop ?? niceTop(Math.max(scale.minTop ?? 0, ...values), scale.integer ?? false);
  return { ticks: [0, top / 2, top], position: (v) => Math.min(Math.max(v, 0), top) / top };
}

/**
 * A round top for the y axis at or above `max`: 1, 2 or 5 times a power of
 * ten (2, 4 or 10 for whole numbers, so the middle gridline is whole too).
 */
export function niceTop(max: number, integer: boolean): number {
  if (!(max > 0)) return integer ? 2 : 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const steps = integer ? [2, 4, 10, 20] : [1, 2, 5, 10];
  for (const step of steps) {
    const top = step * power;
    if (top >= max && (!integer || Number.isInteger(top / 2))) return top;
  }
  return 20 * power;
}

/** Seconds as µs, ms or s with three significant figures at most: `850 µs`, `12.5 ms`, `1.25 s`. */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) return '0 ms';
  if (seconds < 0.001) return `${trim(seconds * 1e6)} µs`;
  if (seconds < 1) return `${trim(seconds * 1e3)} ms`;
  return `${trim(seconds)} s`;
}

/** A 0…1 ratio as a percentage: `0%`, `0.25%`, `12.5%`, `100%`. */
export function formatRatio(ratio: number): string {
  const percent = ratio * 100;
  if (percent === 0 || percent === 100) return `${percent}%`;
  if (percent < 0.01) return '<0.01%';
  return `${trim(percent)}%`;
}

/** Three significant figures, whole from 100 up: `850`, `12.5`, `1.25`. */
function trim(n: number): string {
  return n >= 100 ? n.toFixed(0) : Number(n.toPrecision(3)).toString();
}

/** A time span as an axis label says it: `30 s`, `4 min`, `1.5 h`. */
export function formatSpan(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${trim(ms / 3_600_000)} h`;
}

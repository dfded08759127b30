import { describe, expect, it } from 'vitest';
import { formatRatio, formatSeconds, formatSpan, niceTop, yAxis } from '../../src/console/chart-scale.ts';

// The pure parts of the operator page's charts: axis scales and value formats (no DOM needed).
describe('chart scales and formats', () => {
  it('puts a log axis on whole decades spanning every value, from 100 µs at least', () => {
    const axis = yAxis([0.001, 0.99], { log: true, minTop: 0.01 });
    expect(axis.ticks).toEqual([0.001, 0.01, 0.1, 1]);
    expect(axis.position(0.001)).toBe(0);
    expect(axis.position(1)).toBe(1);
    expect(axis.position(0.01)).toBeCloseTo(1 / 3, 12);
    expect(axis.position(0)).toBe(0);
    expect(yAxis([0.00001, 0.05], { log: true }).ticks[0]).toBe(0.0001);
    // An exact power of ten stays in its own decade.
    expect(yAxis([0.1], { log: true }).ticks).toEqual([0.01, 0.1]);
    // Without values: one decade up to minTop.
    expect(yAxis([], { log: true, minTop: 0.01 }).ticks).toEqual([0.001, 0.01]);
    // Many decades: a gridline every other one, the bottom one included.
    expect(yAxis([0.0001, 20], { log: true }).ticks).toEqual([0.0001, 0.01, 1, 100]);
  });

  it('puts a linear axis from 0 to a round top, whole numbers for counts', () => {
    expect(yAxis([0.3], {}).ticks).toEqual([0, 0.25, 0.5]);
    expect(yAxis([0], { minTop: 0.01 }).ticks).toEqual([0, 0.005, 0.01]);
    expect(yAxis([0.5], { fixedTop: 1 }).ticks).toEqual([0, 0.5, 1]);
    expect(yAxis([0.5], { fixedTop: 1 }).position(2)).toBe(1);
    expect(yAxis([3], { integer: true }).ticks).toEqual([0, 2, 4]);
    expect(yAxis([0], { integer: true }).ticks).toEqual([0, 1, 2]);
    expect(niceTop(12, true)).toBe(20);
    expect(niceTop(1000, false)).toBe(1000);
    expect(niceTop(1001, false)).toBe(2000);
  });

  it('writes seconds and ratios the way an operator reads them', () => {
    expect([0, 0.00085, 0.0125, 0.25, 1.25, 30].map(formatSeconds)).toEqual([
      '0 ms',
      '850 µs',
      '12.5 ms',
      '250 ms',
      '1.25 s',
      '30 s',
    ]);
    expect([0, 0.00001, 0.0025, 0.125, 1].map(formatRatio)).toEqual(['0%', '<0.01%', '0.25%', '12.5%', '100%']);
  });

  it('writes the span of the time axis in seconds, minutes or hours', () => {
    expect([30_000, 119_000, 240_000, 7_199_999, 7_200_000, 5_400_000 * 2].map(formatSpan)).toEqual([
      '30 s',
      '119 s',
      '4 min',
      '120 min',
      '2 h',
      '3 h',
    ]);
  });
});

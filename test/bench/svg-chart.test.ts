import { describe, expect, it } from 'vitest';
import { escapeXml, formatTick, lineChart, wrap } from '../../bench/lib/svg-chart.ts';

/** Every opened tag closed in order, nothing but whitespace outside the root: enough to catch broken markup. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tags = svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g);
  for (const [, closing, name, , selfClosing] of tags) {
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
  expect(svg.trim().startsWith('<svg')).toBe(true);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  // No raw ampersand that is not an entity.
  expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
}

const circles = (svg: string) => [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="4.5" fill="([^"]+)"/g)];

const base = {
  title: 'Saving one exchange',
  description: 'Median save latency by conversation length.',
  x: { label: 'turns', log: true },
  y: { label: 'ms', log: true },
};

describe('lineChart', () => {
  it('is a well-formed, labelled image with its data in words', () => {
    const svg = lineChart({
      ...base,
      series: [
        {
          name: 'LangGraph',
          points: [
            { x: 10, y: 2 },
            { x: 100, y: 20 },
            { x: 1000, y: 250 },
          ],
        },
        {
          name: 'Continuum',
          points: [
            { x: 10, y: 1.5 },
            { x: 100, y: 1.6 },
            { x: 1000, y: 1.7 },
          ],
        },
      ],
    });
    assertWellFormed(svg);
    expect(svg).toContain('role="img" aria-labelledby="chart-title chart-desc"');
    expect(svg).toContain('<title id="chart-title">Saving one exchange</title>');
    const desc = /<desc id="chart-desc">([^<]*)<\/desc>/.exec(svg)?.[1];
    expect(desc).toContain('Median save latency by conversation length.');
    expect(desc).toContain('LangGraph (ms at each turns): 10: 2; 100: 20; 1,000: 250.');
    expect(desc).toContain('Continuum (ms at each turns): 10: 1.5; 100: 1.6; 1,000: 1.7.');
  });

  it('draws one polyline per series and one marker per point', () => {
    const svg = lineChart({
      ...base,
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: 1 },
            { x: 100, y: 2 },
          ],
        },
        {
          name: 'b',
          points: [
            { x: 10, y: 3 },
            { x: 100, y: 4 },
            { x: 1000, y: 5 },
          ],
        },
        { name: 'c', points: [{ x: 10, y: 6 }] },
      ],
    });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(circles(svg)).toHaveLength(6);
    expect(svg.match(/data-series="/g)).toHaveLength(3);
  });

  it('spaces decades evenly on a log axis, with a tick at each', () => {
    const svg = lineChart({
      ...base,
      series: [{ name: 'a', points: [10, 100, 1000, 10_000].map((x) => ({ x, y: 5 })) }],
    });
    const xs = circles(svg).map((m) => Number(m[1]));
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    for (const gap of gaps) expect(gap).toBeCloseTo(gaps[0]!, 0);
    expect(gaps[0]).toBeGreaterThan(0);
    for (const tick of ['10', '100', '1,000', '10,000']) expect(svg).toContain(`>${tick}</text>`);
    expect(svg).toContain('turns (log scale)');
  });

  it('puts larger values higher up', () => {
    const svg = lineChart({
      ...base,
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: 1 },
            { x: 100, y: 1000 },
          ],
        },
      ],
    });
    const [low, high] = circles(svg).map((m) => Number(m[2]));
    expect(high).toBeLessThan(low!);
  });

  it('leaves out what a log axis cannot show, and draws hollow markers hollow', () => {
    const svg = lineChart({
      ...base,
      series: [
        {
          name: 'a',
          color: '#123456',
          points: [
            { x: 10, y: 0 },
            { x: 100, y: 2 },
            { x: 1000, y: 3, hollow: true },
          ],
        },
      ],
    });
    const marks = circles(svg);
    expect(marks).toHaveLength(2);
    expect(marks.map((m) => m[3])).toEqual(['#123456', '#ffffff']);
    expect(svg).toContain('1,000: 3 (hollow marker)');
  });

  it('draws square markers and dashed lines when asked', () => {
    const svg = lineChart({
      ...base,
      series: [
        {
          name: 'a',
          dashed: true,
          marker: 'square',
          points: [
            { x: 10, y: 1 },
            { x: 100, y: 2 },
          ],
        },
      ],
    });
    expect(svg).toContain('stroke-dasharray="7 5"');
    expect(svg.match(/<rect x=/g)).toHaveLength(3); // two points and the legend
  });

  it('escapes names, titles and notes', () => {
    const svg = lineChart({
      ...base,
      title: 'A <b> & "c"',
      note: 'x < y & z',
      series: [{ name: 'R&D <team>', points: [{ x: 10, y: 1 }] }],
    });
    assertWellFormed(svg);
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('R&amp;D &lt;team&gt;');
    expect(svg).toContain('x &lt; y &amp; z');
  });

  it('supports a linear axis with round ticks', () => {
    const svg = lineChart({
      ...base,
      y: { label: 'ms' },
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: 3 },
            { x: 100, y: 47 },
          ],
        },
      ],
    });
    assertWellFormed(svg);
    for (const tick of ['0', '10', '20', '30', '40', '50']) expect(svg).toContain(`>${tick}</text>`);
  });

  it('draws an empty chart when no series has a point', () => {
    const svg = lineChart({ ...base, series: [{ name: 'a', points: [] }] });
    assertWellFormed(svg);
    expect(svg).toContain('a (ms at each turns): no data.');
  });
});

describe('helpers', () => {
  it('escapes XML', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('formats ticks with three significant digits and thousands separators', () => {
    expect(formatTick(0)).toBe('0');
    expect(formatTick(0.012345)).toBe('0.0123');
    expect(formatTick(1.5)).toBe('1.5');
    expect(formatTick(10_000)).toBe('10,000');
    expect(formatTick(123_456)).toBe('123,000');
  });

  it('wraps words to the width', () => {
    expect(wrap('one two three four', 9)).toEqual(['one two', 'three', 'four']);
    expect(wrap('  ', 10)).toEqual([]);
    expect(wrap('unbreakableword x', 5)).toEqual(['unbreakableword', 'x']);
  });
});

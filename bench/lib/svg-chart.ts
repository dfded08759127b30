/**
 * Line charts as plain SVG text, for the figures the benchmarks publish:
 * axes with ticks (linear or log 10), one polyline per series with point
 * markers, a legend, a title, and `<title>`/`<desc>` so a screen reader gets
 * the chart's point and its data. No dependency, no script, no external font.
 */

export interface ChartPoint {
  x: number;
  y: number;
  /** Drawn with a hollow marker (e.g. a figure measured differently from the rest of its line). */
  hollow?: boolean;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** Any CSS colour; by default the next of a palette that colour-blind readers can tell apart. */
  color?: string;
  dashed?: boolean;
  /** Marker shape (default circle): tells lines apart without relying on colour. */
  marker?: 'circle' | 'square';
}

export interface AxisOptions {
  label: string;
  log?: boolean;
  /** Forced range; by default the data's, widened to whole decades on a log axis. */
  min?: number;
  max?: number;
  /** How a tick value is printed (default: up to 3 significant digits, thousands separated). */
  format?: (value: number) => string;
}

export interface LineChartOptions {
  title: string;
  /** What the chart shows, in words (read by screen readers, with the data appended). */
  description: string;
  x: AxisOptions;
  y: AxisOptions;
  series: ChartSeries[];
  width?: number;
  height?: number;
  /** A line under the legend, e.g. what a hollow marker means. */
  note?: string;
}

// Okabe & Ito's palette, without the yellow (too faint on white).
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#56B4E9', '#E69F00', '#000000'];

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Escape text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Up to 3 significant digits, thousands separated: 0.0123, 1.5, 250, 10,000. */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(3));
  return Math.abs(rounded) >= 1000 ? rounded.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(rounded);
}

interface Scale {
  min: number;
  max: number;
  ticks: number[];
  /** 0..1 along the axis. */
  at(value: number): number;
}

function logScale(values: number[], axis: AxisOptions): Scale {
  const positive = values.filter((v) => v > 0);
  const min = axis.min ?? 10 ** Math.floor(Math.log10(Math.min(...positive)));
  let max = axis.max ?? 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (max <= min) max = min * 10;
  const ticks: number[] = [];
  for (let exponent = Math.ceil(Math.log10(min) - 1e-9); 10 ** exponent <= max * (1 + 1e-9); exponent++) {
    ticks.push(10 ** exponent);
  }
  const span = Math.log10(max) - Math.log10(min);
  return { min, max, ticks, at: (v) => (Math.log10(Math.max(v, min * 1e-3)) - Math.log10(min)) / span };
}

function linearScale(values: number[], axis: AxisOptions): Scale {
  const low = axis.min ?? Math.min(0, ...values);
  const high = axis.max ?? Math.max(...values);
  const raw = (high - low || 1) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const min = Math.floor(low / step) * step;
  const max = axis.max ?? Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let tick = min; tick <= max + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return { min, max, ticks, at: (v) => (v - min) / (max - min || 1) };
}

function scaleFor(values: number[], axis: AxisOptions): Scale {
  if (values.length === 0) return { min: 0, max: 1, ticks: [0, 1], at: (v) => v };
  return axis.log ? logScale(values, axis) : linearScale(values, axis);
}

const fixed = (value: number) => String(Math.round(value * 10) / 10);

/** Greedy word wrap to lines of at most `columns` characters (a longer word gets a line of its own). */
export function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

function marker(
  shape: ChartSeries['marker'],
  x: number,
  y: number,
  r: number,
  fill: string,
  stroke: string,
  inner = '',
): string {
  const paint = `fill="${fill}" stroke="${stroke}" stroke-width="2"`;
  return shape === 'square'
    ? `<rect x="${fixed(x - r)}" y="${fixed(y - r)}" width="${fixed(2 * r)}" height="${fixed(2 * r)}" ${paint}>${inner}</rect>`
    : `<circle cx="${fixed(x)}" cy="${fixed(y)}" r="${r}" ${paint}>${inner}</circle>`;
}

/** The data in words, appended to the description: one sentence per series. */
function dataSentences(series: ChartSeries[], x: AxisOptions, y: AxisOptions): string {
  const xf = x.format ?? formatTick;
  const yf = y.format ?? formatTick;
  return series
    .map((s) => {
      const points = s.points.map((p) => `${xf(p.x)}: ${yf(p.y)}${p.hollow ? ' (hollow marker)' : ''}`);
      return `${s.name} (${y.label} at each ${x.label}): ${points.length > 0 ? points.join('; ') : 'no data'}.`;
    })
    .join(' ');
}

/**
 * A line chart as a standalone SVG document (`role="img"`, labelled by its
 * `<title>` and `<desc>`). Points with a non-positive value on a log axis are
 * left out of their line.
 *
 * @example
 * writeFileSync('docs/bench/load.svg', lineChart({
 *   title: 'State load', description: 'p50 latency by conversation length',
 *   x: { label: 'turns', log: true }, y: { label: 'ms', log: true },
 *   series: [{ name: 'Continuum', points: [{ x: 10, y: 1.2 }, { x: 1000, y: 1.4 }] }],
 * }));
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 760;
  const legendRows = Math.ceil(options.series.length / 2);
  // About 6.5 px per character at 12 px.
  const noteLines = options.note ? wrap(options.note, Math.floor((width - 102) / 6.5)) : [];
  const height = options.height ?? 420 + legendRows * 20 + noteLines.length * 16;
  const plotted = options.series.map((s) => ({
    ...s,
    points: s.points.filter(
      (p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!options.x.log || p.x > 0) && (!options.y.log || p.y > 0),
    ),
  }));
  const xs = scaleFor(
    plotted.flatMap((s) => s.points.map((p) => p.x)),
    options.x,
  );
  const ys = scaleFor(
    plotted.flatMap((s) => s.points.map((p) => p.y)),
    options.y,
  );
  const left = 78;
  const right = width - 24;
  const top = 52;
  const bottom = 360;
  const px = (v: number) => left + xs.at(v) * (right - left);
  const py = (v: number) => bottom - ys.at(v) * (bottom - top);
  const xf = options.x.format ?? formatTick;
  const yf = options.y.format ?? formatTick;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">${escapeXml(options.title)}</title>`,
    `<desc id="chart-desc">${escapeXml(`${options.description} ${dataSentences(plotted, options.x, options.y)}`)}</desc>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="17" font-weight="600" fill="#111111" ${FONT}>${escapeXml(options.title)}</text>`,
    '<g stroke="#e3e3e3" stroke-width="1">',
    ...xs.ticks.map((t) => `<line x1="${fixed(px(t))}" y1="${top}" x2="${fixed(px(t))}" y2="${bottom}"/>`),
    ...ys.ticks.map((t) => `<line x1="${left}" y1="${fixed(py(t))}" x2="${right}" y2="${fixed(py(t))}"/>`),
    '</g>',
    `<g stroke="#333333" stroke-width="1.2"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/></g>`,
    `<g font-size="12" fill="#333333" ${FONT}>`,
    ...xs.ticks.map(
      (t) => `<text x="${fixed(px(t))}" y="${bottom + 18}" text-anchor="middle">${escapeXml(xf(t))}</text>`,
    ),
    ...ys.ticks.map(
      (t) => `<text x="${left - 8}" y="${fixed(py(t) + 4)}" text-anchor="end">${escapeXml(yf(t))}</text>`,
    ),
    `<text x="${(left + right) / 2}" y="${bottom + 40}" text-anchor="middle" font-size="13">${escapeXml(options.x.label)}${options.x.log ? ' (log scale)' : ''}</text>`,
    `<text transform="translate(20 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(options.y.label)}${options.y.log ? ' (log scale)' : ''}</text>`,
    '</g>',
  ];

  plotted.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const coords = s.points.map((p) => `${fixed(px(p.x))},${fixed(py(p.y))}`).join(' ');
    out.push(`<g data-series="${escapeXml(s.name)}">`);
    if (s.points.length > 1) {
      out.push(
        `<polyline points="${coords}" fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="7 5"' : ''}/>`,
      );
    }
    for (const p of s.points) {
      const label = `<title>${escapeXml(`${s.name}: ${xf(p.x)} → ${yf(p.y)}`)}</title>`;
      out.push(marker(s.marker, px(p.x), py(p.y), 4.5, p.hollow ? '#ffffff' : color, color, label));
    }
    out.push('</g>');
  });

  const legendTop = bottom + 62;
  const column = (right - left) / 2;
  out.push(`<g font-size="13" fill="#111111" ${FONT}>`);
  plotted.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const x = left + (i % 2) * column;
    const y = legendTop + Math.floor(i / 2) * 20;
    out.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 28}" y2="${y - 4}" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7 5"' : ''}/>`,
      marker(s.marker, x + 14, y - 4, 4, color, color),
      `<text x="${x + 36}" y="${y}">${escapeXml(s.name)}</text>`,
    );
  });
  noteLines.forEach((line, i) => {
    out.push(
      `<text x="${left}" y="${legendTop + legendRows * 20 + 2 + i * 16}" font-size="12" fill="#444444">${escapeXml(line)}</text>`,
    );
  });
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}

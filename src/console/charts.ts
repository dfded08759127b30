import { type ChartScale, formatSpan, yAxis } from './chart-scale.ts';

/**
 * Small SVG line charts drawn with DOM APIs, no chart library: a y axis with
 * three gridlines, a time axis, one path per series (broken where a value is
 * missing), the latest values in text, and a text alternative — the SVG is
 * `role="img"` with an `aria-label` giving the latest values, and a visually
 * hidden table holds the recent points. Colours come from classes in
 * operator.css (the CSP forbids inline style attributes); the second series
 * is dashed so colour is never the only difference.
 */

const SVG = 'http://www.w3.org/2000/svg';

/** Drawing area margins, px: room for y labels on the left and time labels below. */
const MARGIN = { top: 10, right: 12, bottom: 22, left: 52 };
const HEIGHT = 180;
/** Width used before the chart is laid out (and in a screenshot without layout). */
const FALLBACK_WIDTH = 360;

/** One line of a chart. */
export interface ChartSeries {
  /** Short name shown in the legend and the text alternative, e.g. `p99`. */
  label: string;
}

export interface LineChartOptions {
  /** Visible title, also the start of the text alternative. */
  title: string;
  /** One to four series, drawn in order with classes `chart__line--0…3`. */
  series: readonly ChartSeries[];
  /** Value → text for axis labels, legend and table, e.g. seconds → "12 ms". */
  format: (value: number) => string;
  scale?: ChartScale;
  /** Shown in the plot while no series has a value in the window. */
  emptyText?: string;
  /** Rows of the text-alternative table, newest first (default 10). */
  tableRows?: number;
}

/** The values of every series at one time; null is a gap. */
export interface ChartPoint {
  /** ms since the epoch. */
  at: number;
  values: readonly (number | null)[];
}

/**
 * A line chart in a `<figure>`; call {@link LineChart.update} with the
 * points to draw and the time window they span.
 *
 * @example
 * const chart = new LineChart({ title: 'Active streams', series: [{ label: 'SSE' }], format: String });
 * document.body.append(chart.element);
 * chart.update([{ at: Date.now(), values: [3] }], 4 * 60_000);
 */
export class LineChart {
  /** The `<figure>` to place in the page. */
  readonly element: HTMLElement;
  readonly #options: LineChartOptions;
  readonly #svg: SVGSVGElement;
  readonly #legendValues: HTMLElement[] = [];
  readonly #tableBody: HTMLTableSectionElement;
  #points: readonly ChartPoint[] = [];
  /** Time the x axis covers, ms. */
  #spanMs = 60_000;
  #width = 0;

  constructor(options: LineChartOptions) {
    if (options.series.length < 1 || options.series.length > 4) {
      throw new TypeError(`LineChart: 1 to 4 series (got ${options.series.length})`);
    }
    this.#options = options;
    const figure = document.createElement('figure');
    figure.className = 'chart card';
    const caption = document.createElement('figcaption');
    caption.className = 'chart__caption';
    const title = document.createElement('span');
    title.className = 'chart__title';
    title.textContent = options.title;
    const legend = document.createElement('span');
    legend.className = 'chart__legend';
    options.series.forEach((series, i) => {
      const item = document.createElement('span');
      item.className = 'chart__key';
      const swatch = svg('svg', { class: 'chart__swatch', viewBox: '0 0 18 6', width: '18', height: '6' });
      swatch.setAttribute('aria-hidden', 'true');
      swatch.append(svg('line', { class: `chart__line chart__line--${i}`, x1: '0', y1: '3', x2: '18', y2: '3' }));
      const value = document.createElement('strong');
      value.className = 'chart__value';
      value.textContent = '–';
      this.#legendValues.push(value);
      item.append(swatch, `${series.label} `, value);
      legend.append(item);
    });
    caption.append(title, legend);

    this.#svg = svg('svg', { class: 'chart__plot', role: 'img' });
    const table = document.createElement('table');
    const tableCaption = document.createElement('caption');
    tableCaption.textContent = `${options.title}, recent scrapes, newest first`;
    const head = document.createElement('thead');
    head.append(row('th', ['Time', ...options.series.map((s) => s.label)]));
    this.#tableBody = document.createElement('tbody');
    table.append(tableCaption, head, this.#tableBody);
    // Hidden by a wrapper: a table sizes itself to its content whatever its own width says, and would widen the page.
    const hidden = document.createElement('div');
    hidden.className = 'visually-hidden';
    hidden.append(table);
    figure.append(caption, this.#svg, hidden);
    this.element = figure;

    // Draw at the laid-out width so text keeps its size on any screen.
    new ResizeObserver(() => {
      const width = Math.round(this.#svg.getBoundingClientRect().width);
      if (width > 0 && width !== this.#width) this.#draw();
    }).observe(this.#svg);
    this.#draw();
  }

  /**
   * Redraw with these points (oldest first), at most `windowMs` of them
   * ending at the newest one. While the points span less than that, the
   * time axis spans only them, so a page opened a minute ago fills its charts.
   */
  update(points: readonly ChartPoint[], windowMs: number): void {
    const end = points.at(-1)?.at ?? 0;
    this.#points = points.filter((p) => p.at >= end - windowMs);
    const first = this.#points[0]?.at ?? end;
    this.#spanMs = this.#points.length > 1 ? end - first : windowMs;
    this.#draw();
    this.#describe();
  }

  #draw(): void {
    const measured = Math.round(this.#svg.getBoundingClientRect().width);
    const width = measured > 0 ? measured : FALLBACK_WIDTH;
    this.#width = measured;
    const { format, scale = {}, series } = this.#options;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const points = this.#points;
    const end = points.at(-1)?.at ?? 0;
    const start = end - this.#spanMs;
    const values = points.flatMap((p) => p.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const axis = yAxis(values, scale);
    const x = (at: number) => MARGIN.left + ((at - start) / this.#spanMs) * plotW;
    const y = (v: number) => MARGIN.top + plotH - axis.position(v) * plotH;

    const nodes: SVGElement[] = [];
    axis.ticks.forEach((tick, i) => {
      const ty = y(tick).toFixed(1);
      nodes.push(
        svg('line', {
          class: i === 0 ? 'chart__axis' : 'chart__grid',
          x1: `${MARGIN.left}`,
          x2: `${width - MARGIN.right}`,
          y1: ty,
          y2: ty,
        }),
        text(format(tick), {
          class: 'chart__tick',
          x: `${MARGIN.left - 6}`,
          y: ty,
          'text-anchor': 'end',
          'dominant-baseline': 'middle',
        }),
      );
    });
    const baseline = `${HEIGHT - 6}`;
    nodes.push(
      text(`${formatSpan(this.#spanMs)} ago`, { class: 'chart__tick', x: `${MARGIN.left}`, y: baseline }),
      text('now', { class: 'chart__tick', x: `${width - MARGIN.right}`, y: baseline, 'text-anchor': 'end' }),
    );

    series.forEach((_s, i) => {
      const segments = segmentsOf(points, i).map((segment) => segment.map((p) => [x(p.at), y(p.value)] as const));
      const d = segments
        .filter((segment) => segment.length > 1)
        .map((segment) =>
          segment.map(([px, py], j) => `${j === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`).join(''),
        )
        .join('');
      if (d !== '') nodes.push(svg('path', { class: `chart__line chart__line--${i}`, d, 'data-series': `${i}` }));
      // A lone value between gaps, and the newest value, get a dot so they show.
      for (const segment of segments) {
        const last = segment.at(-1)!;
        if (segment.length === 1 || segment === segments.at(-1)) {
          nodes.push(
            svg('circle', {
              class: `chart__dot chart__dot--${i}`,
              cx: last[0].toFixed(1),
              cy: last[1].toFixed(1),
              r: '3',
            }),
          );
        }
      }
    });
    if (values.length === 0) {
      nodes.push(
        text(this.#options.emptyText ?? 'No data yet', {
          class: 'chart__empty',
          x: `${MARGIN.left + plotW / 2}`,
          y: `${MARGIN.top + plotH / 2}`,
          'text-anchor': 'middle',
          'dominant-baseline': 'middle',
        }),
      );
    }
    this.#svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    this.#svg.replaceChildren(...nodes);
  }

  /** Legend values, the SVG's text alternative and the hidden table. */
  #describe(): void {
    const { format, series, title, tableRows = 10 } = this.#options;
    const latest = this.#points.at(-1);
    const shown = (v: number | null | undefined) => (v === null || v === undefined ? 'no data' : format(v));
    series.forEach((_s, i) => {
      this.#legendValues[i]!.textContent = latest?.values[i] == null ? '–' : format(latest.values[i]!);
    });
    const label = latest
      ? `${title}, last ${formatSpan(this.#spanMs)}: now ${series.map((s, i) => `${s.label} ${shown(latest.values[i])}`).join(', ')}`
      : `${title}: waiting for data`;
    this.#svg.setAttribute('aria-label', label);
    const rows = this.#points
      .slice(-tableRows)
      .reverse()
      .map((p) => row('td', [clock(p.at), ...series.map((_s, i) => shown(p.values[i]))]));
    this.#tableBody.replaceChildren(...rows);
  }
}

/** Runs of consecutive non-null values of series `i`. */
function segmentsOf(points: readonly ChartPoint[], i: number): { at: number; value: number }[][] {
  const segments: { at: number; value: number }[][] = [];
  let current: { at: number; value: number }[] = [];
  for (const point of points) {
    const value = point.values[i];
    if (value === null || value === undefined || !Number.isFinite(value)) {
      if (current.length > 0) segments.push(current);
      current = [];
    } else {
      current.push({ at: point.at, value });
    }
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

/** Local wall-clock time, `09:14:03`. */
function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>,
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

function text(content: string, attributes: Record<string, string>): SVGTextElement {
  const element = svg('text', attributes);
  element.textContent = content;
  return element;
}

function row(cell: 'td' | 'th', cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const content of cells) {
    const c = document.createElement(cell);
    if (cell === 'th') c.setAttribute('scope', 'col');
    c.textContent = content;
    tr.append(c);
  }
  return tr;
}

/**
 * A parser of the Prometheus text exposition format, version 0.0.4: what
 * prom-client's `registry.metrics()` writes and `GET /metrics` serves. Pure
 * TypeScript with no DOM and no Node imports, so the operator console runs it
 * in the browser and the tests run it in Node.
 *
 * Format reference: https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** The metric types a `# TYPE` line may declare. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

const METRIC_TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** One sample line: `name{label="value",...} value [timestamp]`. */
export interface Sample {
  /** The sample's own name, e.g. `x_bucket` for a bucket of histogram `x`. */
  name: string;
  labels: Readonly<Record<string, string>>;
  /** `+Inf`, `-Inf` and `NaN` parse to their JavaScript numbers. */
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestamp?: number;
}

/** A metric family: its `# HELP` and `# TYPE` and every sample that belongs to it. */
export interface MetricFamily {
  name: string;
  type: MetricType;
  /** Unescaped help text; empty when the exposition gives none. */
  help: string;
  samples: Sample[];
}

/** A parsed exposition, families by name in the order they first appeared. */
export type Exposition = ReadonlyMap<string, MetricFamily>;

/** Why a body is not valid exposition text. */
export type MetricsTextErrorCode = 'invalid_line' | 'invalid_labels' | 'invalid_value' | 'invalid_type';

/** A line of the body that is not valid exposition text, with its 1-based line number. */
export class MetricsTextError extends Error {
  override readonly name = 'MetricsTextError';
  readonly code: MetricsTextErrorCode;
  readonly line: number;

  constructor(code: MetricsTextErrorCode, line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.code = code;
    this.line = line;
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const WHOLE_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Sample-name suffixes that belong to a histogram or summary family of the stripped name. */
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/**
 * Parse an exposition body into metric families.
 *
 * Samples join the family whose `# TYPE`/`# HELP` named them (histogram
 * `x` owns `x_bucket`, `x_sum` and `x_count`; summary `x` owns `x_sum` and
 * `x_count`); a sample with no declared family gets an `untyped` family of its
 * own name. Throws {@link MetricsTextError} naming the first bad line.
 *
 * @example
 * const families = parseMetricsText(await (await fetch('/metrics')).text());
 * const streams = families.get('continuum_active_sse_streams')?.samples[0]?.value;
 */
export function parseMetricsText(text: string): Exposition {
  const families = new Map<string, MetricFamily>();
  const lines = text.split('\n');
  const family = (name: string): MetricFamily => {
    let found = families.get(name);
    if (!found) {
      found = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, found);
    }
    return found;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const number = i + 1;
    if (line.trim() === '') continue;
    if (line.trimStart().startsWith('#')) {
      const meta = /^\s*#\s+(HELP|TYPE)\s+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      // Other comments carry nothing.
      if (!meta) continue;
      const [, keyword, name, rest = ''] = meta;
      if (!WHOLE_NAME.test(name!)) {
        throw new MetricsTextError('invalid_line', number, `bad metric name in # ${keyword}: ${name}`);
      }
      if (keyword === 'HELP') {
        family(name!).help = unescapeHelp(rest);
      } else {
        const type = rest.trim();
        if (!METRIC_TYPES.has(type))
          throw new MetricsTextError('invalid_type', number, `unknown metric type "${type}"`);
        family(name!).type = type as MetricType;
      }
      continue;
    }
    const sample = parseSample(line, number);
    family(owner(families, sample.name)).samples.push(sample);
  }
  return families;
}

/** The family a sample name belongs to: a declared histogram or summary whose suffix it carries, or itself. */
function owner(families: ReadonlyMap<string, MetricFamily>, sampleName: string): string {
  if (families.has(sampleName)) return sampleName;
  for (const [type, suffixes] of Object.entries(SUFFIXES)) {
    for (const suffix of suffixes) {
      if (!sampleName.endsWith(suffix)) continue;
      const base = sampleName.slice(0, -suffix.length);
      if (families.get(base)?.type === type) return base;
    }
  }
  return sampleName;
}

function parseSample(line: string, number: number): Sample {
  let rest = line.trimStart();
  const nameMatch = NAME.exec(rest);
  if (!nameMatch) throw new MetricsTextError('invalid_line', number, 'expected a metric name');
  const name = nameMatch[0];
  rest = rest.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest, number);
    labels = parsed.labels;
    rest = rest.slice(parsed.length);
  }
  const fields = rest.trim().split(/[ \t]+/);
  if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2 || fields[0] === '') {
    throw new MetricsTextError('invalid_line', number, `expected "${name} value [timestamp]"`);
  }
  const value = parseValue(fields[0]!, number);
  const sample: Sample = { name, labels, value };
  if (fields[1] !== undefined) {
    if (!/^-?\d+$/.test(fields[1])) throw new MetricsTextError('invalid_value', number, `bad timestamp "${fields[1]}"`);
    sample.timestamp = Number(fields[1]);
  }
  return sample;
}

/** Parse `{a="x",b="y"}` at the start of `text`; returns the labels and how many characters it took. */
function parseLabels(text: string, number: number): { labels: Record<string, string>; length: number } {
  const labels: Record<string, string> = {};
  let i = 1;
  const skipSpace = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  const fail = (why: string): never => {
    throw new MetricsTextError('invalid_labels', number, why);
  };
  for (;;) {
    skipSpace();
    if (text[i] === '}') return { labels, length: i + 1 };
    const labelName = LABEL_NAME.exec(text.slice(i))?.[0] ?? fail(`expected a label name at column ${i + 1}`);
    i += labelName.length;
    skipSpace();
    if (text[i] !== '=') fail(`expected "=" after label ${labelName}`);
    i++;
    skipSpace();
    if (text[i] !== '"') fail(`expected a quoted value for label ${labelName}`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(`unterminated value of label ${labelName}`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i++];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else fail(`bad escape "\\${next ?? ''}" in label ${labelName}`);
      } else {
        value += c;
      }
    }
    if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} given twice`);
    labels[labelName] = value;
    skipSpace();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(`expected "," or "}" after label ${labelName}`);
  }
}

/** A sample value: a Go-style float, with `+Inf`, `-Inf` and `NaN` (any case). */
function parseValue(text: string, number: number): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  // Number() alone would accept "0x10", "" and "Infinity"; the format wants decimal floats.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new MetricsTextError('invalid_value', number, `bad sample value "${text}"`);
  }
  return Number(text);
}

/** HELP text escapes only backslash and newline. */
function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** One labelled series of a histogram: its cumulative buckets (ascending `le`, `+Inf` last), sum and count. */
export interface HistogramSeries {
  /** The series' labels, without `le`. */
  labels: Readonly<Record<string, string>>;
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/**
 * The series of a histogram family, one per label set (other than `le`),
 * buckets sorted by their upper bound. Sum and count are NaN when the
 * exposition leaves them out.
 */
export function histogramSeries(family: MetricFamily): HistogramSeries[] {
  const byKey = new Map<string, HistogramSeries>();
  const seriesOf = (labels: Readonly<Record<string, string>>): HistogramSeries => {
    const { le: _le, ...rest } = labels;
    const key = labelKey(rest);
    let series = byKey.get(key);
    if (!series) {
      series = { labels: rest, buckets: [], sum: Number.NaN, count: Number.NaN };
      byKey.set(key, series);
    }
    return series;
  };
  for (const sample of family.samples) {
    if (sample.name === `${family.name}_bucket`) {
      const le = sample.labels['le'];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      if (Number.isNaN(bound)) continue;
      seriesOf(sample.labels).buckets.push({ le: bound, count: sample.value });
    } else if (sample.name === `${family.name}_sum`) {
      seriesOf(sample.labels).sum = sample.value;
    } else if (sample.name === `${family.name}_count`) {
      seriesOf(sample.labels).count = sample.value;
    }
  }
  for (const series of byKey.values()) series.buckets.sort((a, b) => a.le - b.le);
  return [...byKey.values()];
}

/** A stable key for a label set, whatever order its labels came in. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  );
}

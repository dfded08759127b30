import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';

/** One CloudWatch Embedded Metric Format document (one log line). */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [member: string]: unknown;
}

type Family = MetricObjectWithValues<MetricValue<string>>;

/** The specification's bound on metric definitions per directive. */
const MAX_METRICS = 100;

/** Which metrics go out as EMF: Continuum's own, not the process defaults. */
export const emfIncludes = (name: string): boolean =>
  name.startsWith('continuum_') && !name.startsWith('continuum_process_');

function unitOf(name: string, type: string): string {
  if (name.endsWith('_seconds')) return 'Seconds';
  if (name.endsWith('_bytes')) return 'Bytes';
  if (name.endsWith('_ratio')) return 'None';
  return type === 'counter' || type === 'gauge' ? 'Count' : 'None';
}

/** A dimension value CloudWatch accepts: non-blank ASCII, at most 1024 characters. */
function dimensionValue(value: string | number | undefined): string {
  const text = String(value ?? '')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 1024);
  return text.trim() === '' ? 'none' : text;
}

interface Group {
  labels: Record<string, string>;
  metrics: { name: string; unit: string; value: number }[];
}

/**
 * Turns a registry snapshot into EMF documents: one per label set (its
 * labels are the dimensions), at most 100 metrics each. Counters go out as
 * the increase since the previous call (`previous` holds the last values and
 * is updated), gauges as their value, histograms as `<name>_count` and
 * `<name>_sum` increases plus `<name>_p50` / `<name>_p99` (the upper bound of
 * the bucket holding that quantile of the interval's observations).
 */
export function emfDocuments(
  families: Family[],
  previous: Map<string, number>,
  timestamp: number,
  namespace: string,
): EmfDocument[] {
  const groups = new Map<string, Group>();
  const add = (labels: Record<string, string | number | undefined>, name: string, unit: string, value: number) => {
    const clean = Object.fromEntries(
      Object.entries(labels)
        .filter(([key]) => key !== 'le')
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, v]) => [key, dimensionValue(v)]),
    );
    const key = JSON.stringify(clean);
    let group = groups.get(key);
    if (!group) {
      group = { labels: clean, metrics: [] };
      groups.set(key, group);
    }
    group.metrics.push({ name, unit, value: Number.isFinite(value) ? value : 0 });
  };
  const delta = (series: string, value: number) => {
    const last = previous.get(series);
    previous.set(series, value);
    // A value below the last one means the process restarted its count.
    return last === undefined || value < last ? value : value - last;
  };

  for (const family of families) {
    if (!emfIncludes(family.name)) continue;
    const type = String(family.type);
    if (type === 'counter' || type === 'gauge') {
      for (const v of family.values) {
        const value = type === 'counter' ? delta(`${family.name}${JSON.stringify(v.labels)}`, v.value) : v.value;
        add(v.labels, family.name, unitOf(family.name, type), value);
      }
    } else if (type === 'histogram') {
      histogram(family, delta, add);
    }
  }

  const documents: EmfDocument[] = [];
  for (const group of groups.values()) {
    for (let i = 0; i < group.metrics.length; i += MAX_METRICS) {
      const slice = group.metrics.slice(i, i + MAX_METRICS);
      const doc: EmfDocument = {
        _aws: {
          Timestamp: Math.round(timestamp),
          CloudWatchMetrics: [
            {
              Namespace: namespace,
              Dimensions: [Object.keys(group.labels)],
              Metrics: slice.map((m) => ({ Name: m.name, Unit: m.unit })),
            },
          ],
        },
        ...group.labels,
      };
      for (const m of slice) doc[m.name] = m.value;
      documents.push(doc);
    }
  }
  return documents;
}

function histogram(
  family: Family,
  delta: (series: string, value: number) => number,
  add: (labels: Record<string, string | number | undefined>, name: string, unit: string, value: number) => void,
): void {
  const series = new Map<
    string,
    { labels: Record<string, string | number | undefined>; count: number; sum: number; buckets: [number, number][] }
  >();
  for (const v of family.values as MetricValueWithName<string>[]) {
    const { le, ...labels } = v.labels as Record<string, string | number | undefined>;
    const key = JSON.stringify(labels);
    let s = series.get(key);
    if (!s) {
      s = { labels, count: 0, sum: 0, buckets: [] };
      series.set(key, s);
    }
    if (v.metricName?.endsWith('_bucket')) {
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      s.buckets.push([bound, delta(`${family.name}_bucket${key}${le}`, v.value)]);
    } else if (v.metricName?.endsWith('_sum')) {
      s.sum = delta(`${family.name}_sum${key}`, v.value);
    } else if (v.metricName?.endsWith('_count')) {
      s.count = delta(`${family.name}_count${key}`, v.value);
    }
  }
  for (const s of series.values()) {
    add(s.labels, `${family.name}_count`, 'Count', s.count);
    add(s.labels, `${family.name}_sum`, unitOf(family.name, 'histogram'), s.sum);
    if (s.count <= 0) continue;
    const buckets = s.buckets.sort((a, b) => a[0] - b[0]);
    const largestFinite = buckets.filter(([bound]) => Number.isFinite(bound)).at(-1)?.[0] ?? 0;
    for (const [suffix, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      const rank = Math.ceil(q * s.count);
      const hit = buckets.find(([, cumulative]) => cumulative >= rank)?.[0] ?? Number.POSITIVE_INFINITY;
      add(
        s.labels,
        `${family.name}_${suffix}`,
        unitOf(family.name, 'histogram'),
        Number.isFinite(hit) ? hit : largestFinite,
      );
    }
  }
}

export interface EmfReporterOptions {
  registry: Registry;
  clock: Clock;
  /** Where each document goes, one JSON line each (stdout, as Lambda ships it to CloudWatch Logs). */
  write: (line: string) => void;
  /** How often to write, in ms. */
  intervalMs: number;
  /** CloudWatch namespace (default `Continuum`). */
  namespace?: string;
  /** Told when a flush fails (the next one still runs). */
  onError?: (error: unknown) => void;
}

/**
 * Writes the registry's figures as CloudWatch Embedded Metric Format log
 * lines every `intervalMs` and once more at `close()`, so a node (or a
 * Lambda instance) that stops still reports its last interval.
 *
 * @example
 * const emf = new EmfReporter({ registry, clock, write: (l) => process.stdout.write(l), intervalMs: 60_000 });
 * emf.start();
 * await emf.close();
 */
export class EmfReporter {
  readonly #o: EmfReporterOptions;
  readonly #previous = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #last: Promise<number> = Promise.resolve(0);

  constructor(options: EmfReporterOptions) {
    if (!(options.intervalMs > 0)) throw new TypeError('EmfReporter: intervalMs must be positive');
    this.#o = options;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.flush().catch((error: unknown) => this.#o.onError?.(error));
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  /** Write one round of documents now; resolves with how many lines were written. Flushes never overlap. */
  flush(): Promise<number> {
    const run = this.#last.catch(() => 0).then(() => this.#flushNow());
    this.#last = run;
    return run;
  }

  /** Stop the timer and write the last round. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #flushNow(): Promise<number> {
    const families = await this.#o.registry.getMetricsAsJSON();
    const documents = emfDocuments(families, this.#previous, this.#o.clock.now(), this.#o.namespace ?? 'Continuum');
    for (const doc of documents) this.#o.write(`${JSON.stringify(doc)}\n`);
    return documents.length;
  }
}

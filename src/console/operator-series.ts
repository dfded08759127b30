import { type Exposition, type HistogramSeries, histogramSeries, labelKey } from './metrics-text.ts';

/**
 * Turns successive `/metrics` scrapes into the operator page's time series:
 * request latency quantiles and error rate over each interval between two
 * scrapes (from counter and histogram-bucket deltas, as Prometheus' `rate`
 * and `histogram_quantile` would), turn continuity, and the stream gauges.
 * Pure: no DOM, no timers, no fetch; the page feeds it.
 */

/** The metric names read here (src/observability/metrics.ts, docs/OPERATIONS.md). */
export const OPERATOR_METRICS = {
  latency: 'continuum_conversation_latency_seconds',
  requests: 'continuum_requests_total',
  continuity: 'continuum_turn_continuity_total',
  continuityRatio: 'continuum_conversation_continuity_ratio',
  sseStreams: 'continuum_active_sse_streams',
  websockets: 'continuum_websocket_connections',
  /** prom-client's default metric under the `continuum_process_` prefix: a change means the server restarted. */
  startTime: 'continuum_process_process_start_time_seconds',
} as const;

/**
 * Route classes of monitoring traffic, the operator page's own included:
 * probes, scrapes, the alert list and the console's files. Left out of the
 * latency and error figures (as the alert engine leaves out probes), so a
 * page polling every 2 s does not chart itself.
 */
export function isMonitoringRoute(route: string): boolean {
  return /^(GET|HEAD) (\/healthz|\/readyz|\/metrics|\/v1\/admin\/alerts|\/console(\/.*)?)$/.test(route);
}

/** Latency quantiles of the requests finished within one interval. */
export interface LatencyFigures {
  /** Seconds; null when no request finished in the interval. */
  p50: number | null;
  p99: number | null;
  /** Requests timed in the interval. */
  requests: number;
}

/** One route class's latency in an interval. */
export interface RouteLatency extends LatencyFigures {
  /** e.g. `POST /v1/conversations/:id/turns`. */
  route: string;
}

/** What happened between two scrapes, and the gauges as of the later one. */
export interface OperatorPoint {
  /** When the later scrape was taken (ms since the epoch). */
  at: number;
  /** Time since the previous scrape, ms. */
  intervalMs: number;
  /** Counters started over since the previous scrape (the server restarted): deltas are the new totals. */
  restarted: boolean;
  /** API latency (monitoring routes left out); null when the histogram is not exported. */
  latency: LatencyFigures | null;
  /** Route classes with requests in the interval, highest p99 first (monitoring routes left out). */
  routes: RouteLatency[];
  /** API requests in the interval by outcome; null when the counter is not exported. */
  requests: { total: number; clientErrors: number; serverErrors: number } | null;
  /** Server errors ÷ requests in the interval (0…1); null without requests. */
  errorRate: number | null;
  /** Client errors ÷ requests in the interval (0…1); null without requests. */
  clientErrorRate: number | null;
  continuity: {
    /** Turns that found their full prior context ÷ appended turns, in the interval; null without turns. */
    interval: number | null;
    /** Appended turns in the interval. */
    turns: number;
    /** The same ratio since the server started (the node's own gauge); null when not exported. */
    cumulative: number | null;
  };
  /** Open SSE responses; null when the gauge is not exported. */
  sseStreams: number | null;
  /** Open sync WebSocket connections; null when the gauge is not exported. */
  websockets: number | null;
  /** Metrics of {@link OPERATOR_METRICS} the later scrape did not have. */
  missing: string[];
}

/** The figures one scrape yields, before differencing. */
interface Snapshot {
  at: number;
  startTime: number | undefined;
  latency: Map<string, HistogramSeries> | undefined;
  requests: Map<string, { route: string; outcome: string; value: number }> | undefined;
  continuity: Map<string, number> | undefined;
  continuityRatio: number | undefined;
  sseStreams: number | undefined;
  websockets: number | undefined;
  missing: string[];
}

export interface OperatorSeriesOptions {
  /** Points kept, oldest dropped first (default 120: 4 minutes at 2 s, 10 minutes at 5 s). */
  capacity?: number;
  /** Route classes to leave out of latency and error figures (default {@link isMonitoringRoute}). */
  excludeRoute?: (route: string) => boolean;
}

/**
 * The series of points of successive scrapes.
 *
 * @example
 * const series = new OperatorSeries();
 * series.push(Date.now(), parseMetricsText(await (await fetch('/metrics')).text()));
 * // ...2 s later...
 * const point = series.push(Date.now(), parseMetricsText(await (await fetch('/metrics')).text()));
 * point?.latency?.p99; // seconds, over the last 2 s
 */
export class OperatorSeries {
  readonly #capacity: number;
  readonly #exclude: (route: string) => boolean;
  #previous: Snapshot | undefined;
  #points: OperatorPoint[] = [];

  constructor(options: OperatorSeriesOptions = {}) {
    this.#capacity = options.capacity ?? 120;
    if (!Number.isInteger(this.#capacity) || this.#capacity < 1) {
      throw new TypeError(`OperatorSeries: capacity must be a positive integer (got ${options.capacity})`);
    }
    this.#exclude = options.excludeRoute ?? isMonitoringRoute;
  }

  /**
   * Add a scrape taken at `at` (ms). Returns the point for the interval since
   * the previous scrape, or undefined for the first one (a baseline: a
   * counter's value alone says nothing about the last few seconds).
   */
  push(at: number, exposition: Exposition): OperatorPoint | undefined {
    const previous = this.#previous;
    if (previous && at <= previous.at) {
      throw new TypeError(`OperatorSeries.push: scrapes must come in time order (${at} after ${previous.at})`);
    }
    const current = snapshot(at, exposition);
    this.#previous = current;
    if (!previous) return undefined;
    const point = difference(previous, current, this.#exclude);
    this.#points.push(point);
    if (this.#points.length > this.#capacity) this.#points.splice(0, this.#points.length - this.#capacity);
    return point;
  }

  /** The points kept, oldest first. */
  points(): readonly OperatorPoint[] {
    return this.#points;
  }

  /** Forget every scrape and point (the next push is a new baseline). */
  clear(): void {
    this.#previous = undefined;
    this.#points = [];
  }
}

function snapshot(at: number, exposition: Exposition): Snapshot {
  const missing: string[] = [];
  const family = (name: string) => {
    const found = exposition.get(name);
    if (!found || found.samples.length === 0) missing.push(name);
    return found && found.samples.length > 0 ? found : undefined;
  };
  const gauge = (name: string) => family(name)?.samples.find((s) => Object.keys(s.labels).length === 0)?.value;

  const latencyFamily = family(OPERATOR_METRICS.latency);
  const requestsFamily = family(OPERATOR_METRICS.requests);
  const continuityFamily = family(OPERATOR_METRICS.continuity);
  const snap: Snapshot = {
    at,
    startTime: exposition.get(OPERATOR_METRICS.startTime)?.samples[0]?.value,
    latency: latencyFamily
      ? new Map(histogramSeries(latencyFamily).map((series) => [series.labels['route'] ?? '', series]))
      : undefined,
    requests: requestsFamily
      ? new Map(
          requestsFamily.samples.map((s) => [
            labelKey(s.labels),
            { route: s.labels['route'] ?? '', outcome: s.labels['outcome'] ?? '', value: s.value },
          ]),
        )
      : undefined,
    continuity: continuityFamily
      ? new Map(continuityFamily.samples.map((s) => [s.labels['outcome'] ?? '', s.value]))
      : undefined,
    continuityRatio: gauge(OPERATOR_METRICS.continuityRatio),
    sseStreams: gauge(OPERATOR_METRICS.sseStreams),
    websockets: gauge(OPERATOR_METRICS.websockets),
    missing,
  };
  return snap;
}

/** Tracks whether any counter went backwards, which only a restart (or a reset) does. */
interface DeltaContext {
  restarted: boolean;
}

/** A counter's increase: its whole value when it is new or started over (as Prometheus' `rate` treats resets). */
function counterDelta(before: number | undefined, after: number, ctx: DeltaContext): number {
  if (ctx.restarted || before === undefined) return after;
  if (after < before) {
    ctx.restarted = true;
    return after;
  }
  return after - before;
}

function difference(before: Snapshot, after: Snapshot, exclude: (route: string) => boolean): OperatorPoint {
  const ctx: DeltaContext = {
    restarted: before.startTime !== undefined && after.startTime !== undefined && before.startTime !== after.startTime,
  };
  detectResets(before, after, ctx);

  let requests: OperatorPoint['requests'] = null;
  if (after.requests) {
    requests = { total: 0, clientErrors: 0, serverErrors: 0 };
    for (const [key, s] of after.requests) {
      if (exclude(s.route)) continue;
      const delta = counterDelta(before.requests?.get(key)?.value, s.value, ctx);
      requests.total += delta;
      if (s.outcome === 'client_error') requests.clientErrors += delta;
      if (s.outcome === 'server_error') requests.serverErrors += delta;
    }
  }

  let latency: LatencyFigures | null = null;
  const routes: RouteLatency[] = [];
  if (after.latency) {
    const merged = new Map<number, number>();
    for (const [route, series] of after.latency) {
      if (exclude(route)) continue;
      const buckets = bucketDelta(before.latency?.get(route), series, ctx);
      for (const b of buckets) merged.set(b.le, (merged.get(b.le) ?? 0) + b.count);
      const figures = latencyOf(buckets);
      if (figures.requests > 0) routes.push({ route, ...figures });
    }
    latency = latencyOf([...merged].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le));
    routes.sort((a, b) => (b.p99 ?? 0) - (a.p99 ?? 0) || b.requests - a.requests);
  }

  let turns = 0;
  let whole = 0;
  for (const [outcome, value] of after.continuity ?? []) {
    const delta = counterDelta(before.continuity?.get(outcome), value, ctx);
    turns += delta;
    if (outcome === 'whole') whole += delta;
  }

  const rate = (part: number) => (requests && requests.total > 0 ? part / requests.total : null);
  return {
    at: after.at,
    intervalMs: after.at - before.at,
    restarted: ctx.restarted,
    latency,
    routes,
    requests,
    errorRate: rate(requests?.serverErrors ?? 0),
    clientErrorRate: rate(requests?.clientErrors ?? 0),
    continuity: {
      interval: turns > 0 ? whole / turns : null,
      turns,
      cumulative: after.continuityRatio ?? null,
    },
    sseStreams: after.sseStreams ?? null,
    websockets: after.websockets ?? null,
    missing: after.missing,
  };
}

/**
 * Decide up front whether anything went backwards: a restart where the start
 * time gauge is missing still shows as some counter below its last value,
 * and then every delta must be the new total, not only that counter's.
 */
function detectResets(before: Snapshot, after: Snapshot, ctx: DeltaContext): void {
  if (ctx.restarted) return;
  const wentBack = (b: number | undefined, a: number) => b !== undefined && a < b;
  for (const [key, s] of after.requests ?? []) {
    if (wentBack(before.requests?.get(key)?.value, s.value)) ctx.restarted = true;
  }
  for (const [outcome, value] of after.continuity ?? []) {
    if (wentBack(before.continuity?.get(outcome), value)) ctx.restarted = true;
  }
  for (const [route, series] of after.latency ?? []) {
    const prior = before.latency?.get(route);
    if (prior && wentBack(prior.count, series.count)) ctx.restarted = true;
  }
}

/** Per-bucket increase of a histogram series; the whole series when new or started over. */
function bucketDelta(
  before: HistogramSeries | undefined,
  after: HistogramSeries,
  ctx: DeltaContext,
): { le: number; count: number }[] {
  if (ctx.restarted || !before) return after.buckets.map((b) => ({ ...b }));
  const prior = new Map(before.buckets.map((b) => [b.le, b.count]));
  if (after.buckets.some((b) => b.count < (prior.get(b.le) ?? 0))) {
    ctx.restarted = true;
    return after.buckets.map((b) => ({ ...b }));
  }
  return after.buckets.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) }));
}

function latencyOf(buckets: { le: number; count: number }[]): LatencyFigures {
  const requests = buckets.at(-1)?.le === Number.POSITIVE_INFINITY ? buckets.at(-1)!.count : 0;
  if (requests <= 0) return { p50: null, p99: null, requests: 0 };
  const finite = (n: number) => (Number.isFinite(n) ? n : null);
  return { p50: finite(histogramQuantile(0.5, buckets)), p99: finite(histogramQuantile(0.99, buckets)), requests };
}

/**
 * The `q`-quantile of cumulative histogram buckets (ascending `le`, `+Inf`
 * last), by linear interpolation within the bucket that holds the rank, as
 * Prometheus' `histogram_quantile` does: the first bucket's lower bound is 0;
 * a rank in the `+Inf` bucket answers the highest finite bound. NaN without
 * a `+Inf` bucket or without observations.
 */
export function histogramQuantile(q: number, buckets: readonly { le: number; count: number }[]): number {
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  if (buckets.length < 2 || buckets.at(-1)!.le !== Number.POSITIVE_INFINITY) return Number.NaN;
  // Float sums can leave a cumulative count a hair below the one before; Prometheus evens those out too.
  const counts: number[] = [];
  for (const b of buckets) counts.push(Math.max(b.count, counts.at(-1) ?? 0));
  const observations = counts.at(-1)!;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = counts.findIndex((count, i) => i < counts.length - 1 && count >= rank);
  if (b === -1) b = counts.length - 1;
  if (b === counts.length - 1) return buckets[counts.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  const start = b === 0 ? 0 : buckets[b - 1]!.le;
  const end = buckets[b]!.le;
  const inBucket = counts[b]! - (b === 0 ? 0 : counts[b - 1]!);
  rank -= b === 0 ? 0 : counts[b - 1]!;
  return start + (end - start) * (rank / inBucket);
}

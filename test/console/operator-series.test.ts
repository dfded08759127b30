import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMetricsText } from '../../src/console/metrics-text.ts';
import {
  histogramQuantile,
  isMonitoringRoute,
  OPERATOR_METRICS,
  OperatorSeries,
} from '../../src/console/operator-series.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';

const INF = Number.POSITIVE_INFINITY;
const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

/** A /metrics body in prom-client's shape, with the figures the series reads. */
function exposition(figures: {
  start?: number;
  /** route → observations per bucket bound (not cumulative); `INF` for slower than 5 s. */
  latency?: Record<string, Record<number, number>>;
  requests?: { route: string; outcome: string; value: number }[];
  continuity?: Record<string, number>;
  ratio?: number;
  sse?: number;
  websockets?: number;
}): string {
  const lines: string[] = [];
  if (figures.start !== undefined) {
    lines.push(`# TYPE ${OPERATOR_METRICS.startTime} gauge`, `${OPERATOR_METRICS.startTime} ${figures.start}`);
  }
  if (figures.requests) {
    lines.push(`# HELP ${OPERATOR_METRICS.requests} HTTP requests.`, `# TYPE ${OPERATOR_METRICS.requests} counter`);
    for (const r of figures.requests) {
      lines.push(`${OPERATOR_METRICS.requests}{route="${r.route}",outcome="${r.outcome}"} ${r.value}`);
    }
  }
  if (figures.latency) {
    const name = OPERATOR_METRICS.latency;
    lines.push(`# TYPE ${name} histogram`);
    for (const [route, per] of Object.entries(figures.latency)) {
      let cumulative = 0;
      for (const le of [...LATENCY_BOUNDS, INF]) {
        cumulative += per[le] ?? 0;
        lines.push(`${name}_bucket{le="${le === INF ? '+Inf' : le}",route="${route}"} ${cumulative}`);
      }
      lines.push(`${name}_sum{route="${route}"} 1`, `${name}_count{route="${route}"} ${cumulative}`);
    }
  }
  if (figures.continuity) {
    lines.push(`# TYPE ${OPERATOR_METRICS.continuity} counter`);
    for (const [outcome, value] of Object.entries(figures.continuity)) {
      lines.push(`${OPERATOR_METRICS.continuity}{outcome="${outcome}"} ${value}`);
    }
  }
  const gauge = (name: string, value: number | undefined) => {
    if (value !== undefined) lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
  };
  gauge(OPERATOR_METRICS.continuityRatio, figures.ratio);
  gauge(OPERATOR_METRICS.sseStreams, figures.sse);
  gauge(OPERATOR_METRICS.websockets, figures.websockets);
  return `${lines.join('\n')}\n`;
}

const TURNS = 'POST /v1/conversations/:id/turns';
const READ = 'GET /v1/conversations/:id';

describe('histogramQuantile (as Prometheus histogram_quantile)', () => {
  const buckets = [
    { le: 0.1, count: 1 },
    { le: 0.5, count: 3 },
    { le: 1, count: 4 },
    { le: INF, count: 4 },
  ];

  it('interpolates linearly inside the bucket holding the rank', () => {
    // rank 2 of 4: second of the two observations in (0.1, 0.5] → halfway.
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.3, 12);
    // rank 3.96: 0.96 of the one observation in (0.5, 1].
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.98, 12);
  });

  it('takes 0 as the lower bound of the first bucket', () => {
    expect(
      histogramQuantile(0.5, [
        { le: 1, count: 2 },
        { le: INF, count: 2 },
      ]),
    ).toBe(0.5);
  });

  it('answers the highest finite bound when the rank falls in +Inf', () => {
    expect(
      histogramQuantile(0.99, [
        { le: 1, count: 1 },
        { le: 2, count: 1 },
        { le: INF, count: 10 },
      ]),
    ).toBe(2);
  });

  it('is NaN without observations or without a +Inf bucket, ±Inf outside 0…1', () => {
    expect(
      histogramQuantile(0.5, [
        { le: 1, count: 0 },
        { le: INF, count: 0 },
      ]),
    ).toBeNaN();
    expect(histogramQuantile(0.5, [{ le: 1, count: 3 }])).toBeNaN();
    expect(histogramQuantile(-0.1, buckets)).toBe(Number.NEGATIVE_INFINITY);
    expect(histogramQuantile(1.1, buckets)).toBe(INF);
  });

  it('evens out a cumulative count that dips below the one before it', () => {
    const dipped = [
      { le: 0.1, count: 2 },
      { le: 0.5, count: 1.9999999 },
      { le: 1, count: 4 },
      { le: INF, count: 4 },
    ];
    expect(histogramQuantile(0.5, dipped)).toBeCloseTo(0.1, 12);
  });
});

describe('isMonitoringRoute', () => {
  it('names probes, scrapes, the alert list and the console, and nothing of the API', () => {
    for (const route of ['GET /metrics', 'GET /readyz', 'GET /healthz', 'GET /v1/admin/alerts', 'GET /console']) {
      expect(isMonitoringRoute(route)).toBe(true);
    }
    expect(isMonitoringRoute('GET /console/assets/:file')).toBe(true);
    expect(isMonitoringRoute('GET /console/operator')).toBe(true);
    for (const route of [TURNS, READ, 'POST /v1/admin/tenants', 'GET /consoles', 'unmatched', 'POST /metrics']) {
      expect(isMonitoringRoute(route)).toBe(false);
    }
  });
});

describe('OperatorSeries on scrapes of figures', () => {
  it('keeps the first scrape as a baseline and needs scrapes in time order', () => {
    const series = new OperatorSeries();
    expect(series.push(1_000, parseMetricsText(exposition({ sse: 1 })))).toBeUndefined();
    expect(series.points()).toEqual([]);
    expect(() => series.push(1_000, parseMetricsText(exposition({ sse: 1 })))).toThrow(TypeError);
    expect(series.push(3_000, parseMetricsText(exposition({ sse: 2 })))).toMatchObject({ intervalMs: 2_000 });
  });

  it('computes latency from the bucket deltas of the interval, not the totals since start', () => {
    const series = new OperatorSeries();
    // Before: 100 slow requests (in (1, 2]). During the interval: 10 fast ones (in (0.005, 0.01]).
    series.push(0, parseMetricsText(exposition({ latency: { [TURNS]: { 2: 100 } } })));
    const point = series.push(2_000, parseMetricsText(exposition({ latency: { [TURNS]: { 2: 100, 0.01: 10 } } })))!;
    expect(point.latency!.requests).toBe(10);
    expect(point.latency!.p50).toBeCloseTo(0.0075, 12);
    expect(point.latency!.p99).toBeCloseTo(0.005 + 0.005 * 0.99, 12);
  });

  it('merges route classes for the API figure and lists each route, highest p99 first', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(exposition({ latency: { [TURNS]: {}, [READ]: {} } })));
    const point = series.push(
      5_000,
      parseMetricsText(exposition({ latency: { [TURNS]: { 0.25: 2 }, [READ]: { 0.001: 8 } } })),
    )!;
    expect(point.latency!.requests).toBe(10);
    // Rank 5 of 10 falls among the 8 reads in [0, 1 ms]; rank 9.9 among the 2 turns in (100, 250] ms.
    expect(point.latency!.p50).toBeCloseTo(0.001 * (5 / 8), 12);
    expect(point.latency!.p99).toBeCloseTo(0.1 + 0.15 * (1.9 / 2), 12);
    expect(point.routes.map((r) => [r.route, r.requests])).toEqual([
      [TURNS, 2],
      [READ, 8],
    ]);
  });

  it('leaves monitoring routes out of latency and error figures', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(exposition({ latency: {}, requests: [] })));
    const point = series.push(
      2_000,
      parseMetricsText(
        exposition({
          latency: { 'GET /metrics': { 5: 4 }, [READ]: { 0.005: 1 } },
          requests: [
            { route: 'GET /metrics', outcome: 'success', value: 4 },
            { route: 'GET /readyz', outcome: 'server_error', value: 2 },
            { route: READ, outcome: 'success', value: 1 },
          ],
        }),
      ),
    )!;
    expect(point.latency!.requests).toBe(1);
    expect(point.routes.map((r) => r.route)).toEqual([READ]);
    expect(point.requests).toEqual({ total: 1, clientErrors: 0, serverErrors: 0 });
    expect(point.errorRate).toBe(0);
  });

  it('gives error rates from the outcome deltas, and null for an interval without requests', () => {
    const series = new OperatorSeries();
    const requests = (success: number, client: number, server: number) => [
      { route: TURNS, outcome: 'success', value: success },
      { route: READ, outcome: 'client_error', value: client },
      { route: TURNS, outcome: 'server_error', value: server },
    ];
    series.push(0, parseMetricsText(exposition({ requests: requests(50, 5, 5) })));
    const busy = series.push(2_000, parseMetricsText(exposition({ requests: requests(65, 8, 7) })))!;
    expect(busy.requests).toEqual({ total: 20, clientErrors: 3, serverErrors: 2 });
    expect(busy.errorRate).toBe(0.1);
    expect(busy.clientErrorRate).toBe(0.15);
    const idle = series.push(4_000, parseMetricsText(exposition({ requests: requests(65, 8, 7) })))!;
    expect(idle.requests).toEqual({ total: 0, clientErrors: 0, serverErrors: 0 });
    expect(idle.errorRate).toBeNull();
    expect(idle.clientErrorRate).toBeNull();
  });

  it('counts a series that appears between scrapes in full (it started from zero)', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(exposition({ requests: [{ route: TURNS, outcome: 'success', value: 3 }] })));
    const point = series.push(
      2_000,
      parseMetricsText(
        exposition({
          requests: [
            { route: TURNS, outcome: 'success', value: 4 },
            { route: TURNS, outcome: 'server_error', value: 1 },
          ],
        }),
      ),
    )!;
    expect(point.requests).toEqual({ total: 2, clientErrors: 0, serverErrors: 1 });
    expect(point.errorRate).toBe(0.5);
    expect(point.restarted).toBe(false);
  });

  it('takes continuity from its counter deltas, and the since-start ratio from the gauge', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(exposition({ continuity: { whole: 10 }, ratio: 1 })));
    const point = series.push(
      2_000,
      parseMetricsText(exposition({ continuity: { whole: 13, context_failed: 1 }, ratio: 13 / 14 })),
    )!;
    expect(point.continuity).toEqual({ interval: 0.75, turns: 4, cumulative: 13 / 14 });
    const idle = series.push(
      4_000,
      parseMetricsText(exposition({ continuity: { whole: 13, context_failed: 1 }, ratio: 13 / 14 })),
    )!;
    expect(idle.continuity).toEqual({ interval: null, turns: 0, cumulative: 13 / 14 });
  });

  it('reads the stream gauges as they are now', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(exposition({ sse: 5, websockets: 1 })));
    expect(series.push(2_000, parseMetricsText(exposition({ sse: 2, websockets: 3 })))).toMatchObject({
      sseStreams: 2,
      websockets: 3,
    });
  });

  it('treats counters that went backwards as a restart: every delta is the new total', () => {
    const series = new OperatorSeries();
    series.push(
      0,
      parseMetricsText(
        exposition({
          requests: [
            { route: TURNS, outcome: 'success', value: 500 },
            { route: READ, outcome: 'success', value: 2 },
          ],
          latency: { [TURNS]: { 0.5: 500 }, [READ]: { 0.001: 2 } },
          continuity: { whole: 400 },
        }),
      ),
    );
    // The restarted node has served 3 appends and, by chance, already more reads than before.
    const point = series.push(
      2_000,
      parseMetricsText(
        exposition({
          requests: [
            { route: TURNS, outcome: 'success', value: 3 },
            { route: READ, outcome: 'success', value: 4 },
          ],
          latency: { [TURNS]: { 0.01: 3 }, [READ]: { 0.001: 4 } },
          continuity: { whole: 3 },
        }),
      ),
    )!;
    expect(point.restarted).toBe(true);
    expect(point.requests!.total).toBe(7);
    expect(point.latency!.requests).toBe(7);
    expect(point.continuity.turns).toBe(3);
    expect(point.latency!.p99).toBeGreaterThan(0.005);
    expect(point.latency!.p99).toBeLessThanOrEqual(0.01);
  });

  it('treats a new process start time as a restart even when every counter grew', () => {
    const series = new OperatorSeries();
    series.push(
      0,
      parseMetricsText(exposition({ start: 1_000, requests: [{ route: TURNS, outcome: 'success', value: 2 }] })),
    );
    const point = series.push(
      2_000,
      parseMetricsText(exposition({ start: 1_500, requests: [{ route: TURNS, outcome: 'success', value: 9 }] })),
    )!;
    expect(point.restarted).toBe(true);
    expect(point.requests!.total).toBe(9);
    const next = series.push(
      4_000,
      parseMetricsText(exposition({ start: 1_500, requests: [{ route: TURNS, outcome: 'success', value: 10 }] })),
    )!;
    expect(next.restarted).toBe(false);
    expect(next.requests!.total).toBe(1);
  });

  it('answers null and names what is missing when a scrape lacks the metrics', () => {
    const series = new OperatorSeries();
    series.push(0, parseMetricsText(''));
    const point = series.push(2_000, parseMetricsText('# TYPE other gauge\nother 1\n'))!;
    expect(point).toMatchObject({
      latency: null,
      routes: [],
      requests: null,
      errorRate: null,
      continuity: { interval: null, turns: 0, cumulative: null },
      sseStreams: null,
      websockets: null,
    });
    expect(point.missing).toEqual([
      OPERATOR_METRICS.latency,
      OPERATOR_METRICS.requests,
      OPERATOR_METRICS.continuity,
      OPERATOR_METRICS.continuityRatio,
      OPERATOR_METRICS.sseStreams,
      OPERATOR_METRICS.websockets,
    ]);
  });

  it('keeps at most `capacity` points, dropping the oldest, and starts over after clear()', () => {
    const series = new OperatorSeries({ capacity: 3 });
    for (let i = 0; i <= 5; i++) series.push(i * 1_000, parseMetricsText(exposition({ sse: i })));
    expect(series.points().map((p) => p.sseStreams)).toEqual([3, 4, 5]);
    series.clear();
    expect(series.points()).toEqual([]);
    expect(series.push(10_000, parseMetricsText(exposition({ sse: 1 })))).toBeUndefined();
    expect(() => new OperatorSeries({ capacity: 0 })).toThrow(TypeError);
  });
});

describe('OperatorSeries on real /metrics scrapes of the app', () => {
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    app = await buildTestApp();
    const tenant = await app.createTenant();
    token = (await app.token(tenant.apiKey, 'patient-9')).access_token;
  });

  afterAll(async () => {
    await app.close();
  });

  const scrape = async () => {
    const res = await app.request({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return parseMetricsText(res.body);
  };

  it('charts exactly the API requests, outcomes and turns made between two scrapes', async () => {
    const series = new OperatorSeries();
    series.push(1_000, await scrape());

    const created = await app.request({ method: 'POST', url: '/v1/conversations', token, body: {} });
    const id = (created.json() as { id: string }).id;
    for (let turn = 0; turn < 3; turn++) {
      const res = await app.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: `Visit note ${turn}: blood pressure 128/82.`, expectedTurn: turn },
      });
      expect(res.statusCode).toBe(201);
    }
    const missing = await app.request({ method: 'GET', url: '/v1/conversations/cnv_nope', token });
    expect(missing.statusCode).toBe(404);
    // Monitoring between the scrapes is not API traffic.
    await app.request({ method: 'GET', url: '/readyz' });
    await app.request({ method: 'GET', url: '/v1/admin/alerts', token: ADMIN_TOKEN });

    const point = series.push(3_000, await scrape())!;
    expect(point.restarted).toBe(false);
    expect(point.requests).toEqual({ total: 5, clientErrors: 1, serverErrors: 0 });
    expect(point.errorRate).toBe(0);
    expect(point.clientErrorRate).toBe(0.2);
    expect(point.latency!.requests).toBe(5);
    expect(point.latency!.p50).toBeGreaterThan(0);
    expect(point.latency!.p99).toBeGreaterThanOrEqual(point.latency!.p50!);
    expect(point.routes.map((r) => r.route).sort()).toEqual([READ, 'POST /v1/conversations', TURNS].sort());
    expect(point.routes.find((r) => r.route === TURNS)!.requests).toBe(3);
    expect(point.continuity).toEqual({ interval: 1, turns: 3, cumulative: 1 });
    expect(point.sseStreams).toBe(0);
    expect(point.websockets).toBe(0);
    expect(point.missing).toEqual([]);

    // Nothing but scrapes since: an empty interval.
    const quiet = series.push(5_000, await scrape())!;
    expect(quiet.requests!.total).toBe(0);
    expect(quiet.latency).toEqual({ p50: null, p99: null, requests: 0 });
    expect(quiet.errorRate).toBeNull();
  });
});

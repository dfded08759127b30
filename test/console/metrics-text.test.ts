import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramSeries, labelKey, MetricsTextError, parseMetricsText } from '../../src/console/metrics-text.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('parseMetricsText on a real /metrics body', () => {
  let app: TestApp;
  let body: string;
  let contentType: string | undefined;

  beforeAll(async () => {
    app = await buildTestApp();
    const tenant = await app.createTenant();
    const { access_token } = await app.token(tenant.apiKey, 'patient-7');
    const created = await app.request({ method: 'POST', url: '/v1/conversations', token: access_token, body: {} });
    expect(created.statusCode).toBe(201);
    const id = (created.json() as { id: string }).id;
    const turn = await app.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token: access_token,
      body: { role: 'user', content: 'I take metformin 500 mg twice a day.', expectedTurn: 0 },
    });
    expect(turn.statusCode).toBe(201);
    const missing = await app.request({ method: 'GET', url: '/v1/conversations/cnv_missing', token: access_token });
    expect(missing.statusCode).toBe(404);
    const res = await app.request({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    body = res.body;
    contentType = res.headers['content-type'] as string | undefined;
  });

  afterAll(async () => {
    await app.close();
  });

  it('is the 0.0.4 text format the parser targets', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('reads every family with its HELP and TYPE, and counts every sample line', () => {
    const families = parseMetricsText(body);
    const sampleLines = body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    const parsed = [...families.values()].reduce((n, f) => n + f.samples.length, 0);
    expect(parsed).toBe(sampleLines);
    const requests = families.get('continuum_requests_total');
    expect(requests?.type).toBe('counter');
    expect(requests?.help).toMatch(/^HTTP requests by route class/);
    expect(families.get('continuum_active_sse_streams')?.type).toBe('gauge');
    // No sample was left in a family of its own suffixed name.
    expect(families.has('continuum_conversation_latency_seconds_bucket')).toBe(false);
    expect([...families.values()].every((f) => f.type !== 'untyped')).toBe(true);
  });

  it('reads counters by route and outcome as the app recorded them', () => {
    const requests = parseMetricsText(body).get('continuum_requests_total')!;
    const value = (route: string, outcome: string) =>
      requests.samples.find((s) => labelKey(s.labels) === labelKey({ route, outcome }))?.value;
    expect(value('POST /v1/conversations', 'success')).toBe(1);
    expect(value('POST /v1/conversations/:id/turns', 'success')).toBe(1);
    expect(value('GET /v1/conversations/:id', 'client_error')).toBe(1);
  });

  it('groups histogram buckets, sum and count per route, buckets ascending with +Inf last', () => {
    const latency = parseMetricsText(body).get('continuum_conversation_latency_seconds')!;
    expect(latency.type).toBe('histogram');
    const series = histogramSeries(latency);
    const turns = series.find((s) => s.labels['route'] === 'POST /v1/conversations/:id/turns')!;
    expect(turns.labels).toEqual({ route: 'POST /v1/conversations/:id/turns' });
    expect(turns.buckets.map((b) => b.le)).toEqual([
      0.001,
      0.0025,
      0.005,
      0.01,
      0.025,
      0.05,
      0.1,
      0.25,
      0.5,
      1,
      2,
      5,
      Number.POSITIVE_INFINITY,
    ]);
    expect(turns.count).toBe(1);
    expect(turns.buckets.at(-1)!.count).toBe(1);
    expect(turns.sum).toBeGreaterThan(0);
    for (let i = 1; i < turns.buckets.length; i++) {
      expect(turns.buckets[i]!.count).toBeGreaterThanOrEqual(turns.buckets[i - 1]!.count);
    }
  });

  it('reads unlabelled histograms and the continuity counter', () => {
    const families = parseMetricsText(body);
    const stateLoad = histogramSeries(families.get('continuum_state_load_seconds')!);
    expect(stateLoad).toHaveLength(1);
    expect(stateLoad[0]!.labels).toEqual({});
    const continuity = families.get('continuum_turn_continuity_total')!;
    expect(continuity.samples.find((s) => s.labels['outcome'] === 'whole')?.value).toBe(1);
  });
});

describe('parseMetricsText edge cases', () => {
  it('unescapes quotes, backslashes and newlines in label values', () => {
    const families = parseMetricsText(
      ['# TYPE x counter', 'x{path="C:\\\\dir\\\\",quote="say \\"hi\\"",lines="a\\nb"} 3'].join('\n'),
    );
    expect(families.get('x')!.samples[0]!.labels).toEqual({ path: 'C:\\dir\\', quote: 'say "hi"', lines: 'a\nb' });
  });

  it('takes braces, commas and equals signs inside quoted label values as text', () => {
    const [sample] = parseMetricsText('m{a="}{,=",b="x"} 1').get('m')!.samples;
    expect(sample!.labels).toEqual({ a: '}{,=', b: 'x' });
  });

  it('allows a trailing comma, spaces around labels and an empty label set', () => {
    const families = parseMetricsText('a{ x = "1" , y="2", } 1\nb{} 2\n');
    expect(families.get('a')!.samples[0]!.labels).toEqual({ x: '1', y: '2' });
    expect(families.get('b')!.samples[0]).toEqual({ name: 'b', labels: {}, value: 2 });
  });

  it('reads +Inf, -Inf, NaN, exponents and a timestamp', () => {
    const families = parseMetricsText(
      ['a +Inf', 'b -Inf', 'c NaN', 'd 1.5e-3', 'e -2 1700000000000', 'f Inf', 'g .5', 'h 7.'].join('\n'),
    );
    const value = (name: string) => families.get(name)!.samples[0]!.value;
    expect(value('a')).toBe(Number.POSITIVE_INFINITY);
    expect(value('b')).toBe(Number.NEGATIVE_INFINITY);
    expect(value('c')).toBeNaN();
    expect(value('d')).toBe(0.0015);
    expect(value('e')).toBe(-2);
    expect(families.get('e')!.samples[0]!.timestamp).toBe(1_700_000_000_000);
    expect(value('f')).toBe(Number.POSITIVE_INFINITY);
    expect(value('g')).toBe(0.5);
    expect(value('h')).toBe(7);
  });

  it('unescapes HELP text and keeps other comments out', () => {
    const families = parseMetricsText(
      ['# a free comment', '# HELP x Line one\\nline two \\\\ done', '# TYPE x gauge', 'x 1'].join('\n'),
    );
    expect(families.get('x')).toMatchObject({ type: 'gauge', help: 'Line one\nline two \\ done' });
    expect(families.size).toBe(1);
  });

  it('accepts CRLF line ends and blank lines', () => {
    const families = parseMetricsText('# TYPE x counter\r\n\r\nx 4\r\n');
    expect(families.get('x')!.samples[0]!.value).toBe(4);
  });

  it('gives undeclared samples an untyped family of their own, even with a histogram-like suffix', () => {
    const families = parseMetricsText('lonely_bucket{le="1"} 2\nlonely_count 2');
    expect(families.get('lonely_bucket')!.type).toBe('untyped');
    expect(families.get('lonely_count')!.type).toBe('untyped');
  });

  it('puts a summary’s quantiles, sum and count in the summary family', () => {
    const families = parseMetricsText(
      ['# TYPE rpc summary', 'rpc{quantile="0.5"} 0.2', 'rpc_sum 10', 'rpc_count 40'].join('\n'),
    );
    expect(families.get('rpc')!.samples.map((s) => s.name)).toEqual(['rpc', 'rpc_sum', 'rpc_count']);
  });

  it('reads a histogram given out of order, with NaN sum and count when they are missing', () => {
    const families = parseMetricsText(
      [
        '# TYPE h histogram',
        'h_bucket{le="+Inf",k="a"} 3',
        'h_bucket{le="0.5",k="a"} 1',
        'h_bucket{k="b",le="1"} 0',
        'h_bucket{le="1",k="a"} 2',
        'h_bucket{k="b",le="+Inf"} 0',
      ].join('\n'),
    );
    const [a, b] = histogramSeries(families.get('h')!);
    expect(a).toEqual({
      labels: { k: 'a' },
      buckets: [
        { le: 0.5, count: 1 },
        { le: 1, count: 2 },
        { le: Number.POSITIVE_INFINITY, count: 3 },
      ],
      sum: Number.NaN,
      count: Number.NaN,
    });
    expect(b!.labels).toEqual({ k: 'b' });
  });

  it.each([
    ['a label value with no closing quote', 'x{a="b} 1', 'invalid_labels'],
    ['an unknown escape', 'x{a="\\t"} 1', 'invalid_labels'],
    ['a label given twice', 'x{a="1",a="2"} 1', 'invalid_labels'],
    ['labels without a separator', 'x{a="1" b="2"} 1', 'invalid_labels'],
    ['an unquoted label value', 'x{a=1} 1', 'invalid_labels'],
    ['a missing value', 'x{a="1"}', 'invalid_line'],
    ['a value glued to the labels', 'x{a="1"}1', 'invalid_line'],
    ['a word for a value', 'x one', 'invalid_value'],
    ['hex', 'x 0x10', 'invalid_value'],
    ['a fractional timestamp', 'x 1 2.5', 'invalid_value'],
    ['three fields', 'x 1 2 3', 'invalid_line'],
    ['an unknown type', '# TYPE x gauges', 'invalid_type'],
    ['a bad name in TYPE', '# TYPE 9x gauge', 'invalid_line'],
    ['a line starting with a digit', '9x 1', 'invalid_line'],
  ])('refuses %s, naming the line', (_why, line, code) => {
    const text = `ok 1\n${line}\n`;
    let error: unknown;
    try {
      parseMetricsText(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MetricsTextError);
    expect(error).toMatchObject({ code, line: 2 });
    expect((error as Error).message).toMatch(/^line 2: /);
  });
});

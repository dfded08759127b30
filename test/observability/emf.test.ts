import { Counter, Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { type EmfDocument, EmfReporter } from '../../src/observability/emf.ts';
import { ADMIN_TOKEN } from '../helpers/test-app.ts';
import { buildObservedApp, type ObservedApp } from './support.ts';

/** Units the specification allows (CloudWatch MetricDatum units). */
const UNITS = new Set(
  'Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second Count/Second None'.split(
    ' ',
  ),
);

/**
 * Check one log line against the CloudWatch Embedded Metric Format
 * specification: a JSON object alone on its line; `_aws` with an integer
 * `Timestamp` (ms) and `CloudWatchMetrics` directives, each with a
 * `Namespace` (1–255 chars), `Dimensions` (at least one DimensionSet of at
 * most 9 keys, each a root member with a non-blank ASCII string value) and
 * at most 100 `Metrics` (`Name` 1–255 chars referencing a root member that is
 * a number or an array of at most 100 numbers; `Unit` a CloudWatch unit).
 * Returns the document; throws naming the first violation.
 */
function parseEmf(line: string): EmfDocument {
  const fail = (why: string): never => {
    throw new Error(`not EMF (${why}): ${line.slice(0, 300)}`);
  };
  const doc = JSON.parse(line) as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('root is not an object');
  const meta = doc['_aws'] as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof meta !== 'object' || meta === null) return fail('no _aws object');
  if (!Number.isInteger(meta.Timestamp)) fail('Timestamp is not an integer of ms');
  if (!Array.isArray(meta.CloudWatchMetrics) || meta.CloudWatchMetrics.length === 0) fail('no CloudWatchMetrics');
  for (const directive of meta.CloudWatchMetrics as Record<string, unknown>[]) {
    const { Namespace, Dimensions, Metrics } = directive;
    if (typeof Namespace !== 'string' || Namespace.length < 1 || Namespace.length > 255) fail('bad Namespace');
    if (!Array.isArray(Dimensions) || Dimensions.length < 1) fail('Dimensions needs a DimensionSet');
    for (const set of Dimensions as unknown[]) {
      if (!Array.isArray(set) || set.length > 9) fail('a DimensionSet is not an array of at most 9 keys');
      for (const key of set as unknown[]) {
        const value = doc[String(key)];
        if (typeof value !== 'string' || value.trim() === '' || !/^[\x20-\x7e]+$/.test(value) || value.length > 1024)
          fail(`dimension ${String(key)} has no valid string target`);
      }
    }
    if (!Array.isArray(Metrics) || Metrics.length > 100) fail('Metrics missing or over 100');
    for (const metric of Metrics as { Name?: unknown; Unit?: unknown }[]) {
      const name = metric.Name;
      if (typeof name !== 'string' || name.length < 1 || name.length > 255) return fail('bad metric Name');
      if (metric.Unit !== undefined && !UNITS.has(String(metric.Unit)))
        fail(`unit ${metric.Unit} is not a CloudWatch unit`);
      const target = doc[name];
      const numeric = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
      if (!(numeric(target) || (Array.isArray(target) && target.length <= 100 && target.every(numeric))))
        fail(`metric ${name} has no numeric target`);
    }
  }
  return doc as EmfDocument;
}

/** Every EMF document among the captured log lines (logs and EMF share stdout). */
function emfDocs(chunks: string[]) {
  return chunks
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map(parseEmf);
}

/** The value of `metric` in the document whose dimensions equal `dims`. */
function metricIn(docs: ReturnType<typeof emfDocs>, metric: string, dims: Record<string, string> = {}) {
  const keys = Object.keys(dims).sort();
  const doc = docs.find(
    (d) =>
      metric in d &&
      JSON.stringify(d._aws.CloudWatchMetrics[0]!.Dimensions[0]) === JSON.stringify(keys) &&
      keys.every((k) => d[k] === dims[k]),
  );
  return doc?.[metric] as number | undefined;
}

describe('CONTINUUM_METRICS=emf: the same figures as CloudWatch Embedded Metric Format log lines', () => {
  let o: ObservedApp | undefined;
  afterEach(async () => {
    await o?.close().catch(() => {});
    o = undefined;
  });

  async function traffic(app: ObservedApp) {
    const tenant = await app.app.inject({
      method: 'POST',
      url: '/v1/admin/tenants',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      payload: { name: 'emf-tenant' },
    });
    const token = await app.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { grant_type: 'api_key', api_key: tenant.json().apiKey, subject: 'patient-emf' },
    });
    const auth = { authorization: `Bearer ${token.json().access_token}` };
    const created = await app.app.inject({ method: 'POST', url: '/v1/conversations', headers: auth, payload: {} });
    for (let n = 0; n < 3; n++) {
      await app.app.inject({
        method: 'POST',
        url: `/v1/conversations/${created.json().id}/turns`,
        headers: auth,
        payload: { role: 'user', content: `turn ${n + 1}`, expectedTurn: n },
      });
    }
  }

  it('writes valid EMF lines at close, with counters as increases and route classes as dimensions', async () => {
    const out: string[] = [];
    o = await buildObservedApp({ config: { metrics: 'emf' }, logStream: { write: (line) => out.push(line) } });
    await traffic(o);
    expect((await o.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect(emfDocs(out)).toEqual([]); // the interval (60 s) has not come yet
    const now = o.clock.now();
    await o.close();
    o = undefined;

    const docs = emfDocs(out);
    expect(docs.length).toBeGreaterThan(5);
    for (const doc of docs) {
      expect(doc._aws.Timestamp).toBe(now);
      expect(doc._aws.CloudWatchMetrics[0]!.Namespace).toBe('Continuum');
    }
    const append = { route: 'POST /v1/conversations/:id/turns', outcome: 'success' };
    expect(metricIn(docs, 'continuum_requests_total', append)).toBe(3);
    expect(metricIn(docs, 'continuum_turns_total', { outcome: 'appended' })).toBe(3);
    expect(metricIn(docs, 'continuum_conversation_latency_seconds_count', { route: append.route })).toBe(3);
    expect(metricIn(docs, 'continuum_conversation_latency_seconds_p99', { route: append.route })).toBeGreaterThan(0);
    expect(metricIn(docs, 'continuum_state_load_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(metricIn(docs, 'continuum_conversation_continuity_ratio')).toBe(1);
    expect(metricIn(docs, 'continuum_alerts_firing', { alert: 'store_down' })).toBe(0);
    const units = new Map(
      docs.flatMap((d) =>
        d._aws.CloudWatchMetrics[0]!.Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]),
      ),
    );
    expect(units.get('continuum_requests_total')).toBe('Count');
    expect(units.get('continuum_state_load_seconds_sum')).toBe('Seconds');
    expect(units.get('continuum_conversation_continuity_ratio')).toBe('None');
    // No process defaults, no ids.
    expect(docs.some((d) => Object.keys(d).some((k) => k.startsWith('continuum_process_')))).toBe(false);
    expect(JSON.stringify(docs)).not.toMatch(/cnv_|tnt_|patient-emf/);
  });

  it('with both, serves /metrics and writes EMF lines every CONTINUUM_METRICS_INTERVAL seconds', async () => {
    const out: string[] = [];
    o = await buildObservedApp({
      config: { metrics: 'both', metricsInterval: 1 },
      logStream: { write: (line) => out.push(line) },
    });
    await traffic(o);
    expect((await o.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    await expect.poll(() => emfDocs(out).length, { timeout: 5_000, interval: 100 }).toBeGreaterThan(0);
  });

  it('sends counters as the increase since the last round, gauges as they are, and splits past 100 metrics', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'continuum_x_total', help: 'x', labelNames: ['kind'], registers: [registry] });
    const gauges = Array.from(
      { length: 150 },
      (_, i) => new Gauge({ name: `continuum_g${i}`, help: 'g', registers: [registry] }),
    );
    gauges[0]!.set(7);
    counter.inc({ kind: 'a' }, 5);
    const lines: string[] = [];
    const emf = new EmfReporter({
      registry,
      clock: new FakeClock(1_000),
      intervalMs: 60_000,
      write: (l) => lines.push(l),
    });
    await emf.flush();
    let docs = emfDocs(lines);
    expect(metricIn(docs, 'continuum_x_total', { kind: 'a' })).toBe(5);
    const plain = docs.filter((d) => d._aws.CloudWatchMetrics[0]!.Dimensions[0]!.length === 0);
    expect(plain.map((d) => d._aws.CloudWatchMetrics[0]!.Metrics.length)).toEqual([100, 50]);
    expect(metricIn(docs, 'continuum_g0')).toBe(7);

    lines.length = 0;
    counter.inc({ kind: 'a' }, 2);
    await emf.close();
    docs = emfDocs(lines);
    expect(metricIn(docs, 'continuum_x_total', { kind: 'a' })).toBe(2);
    expect(metricIn(docs, 'continuum_g0')).toBe(7);
  });
});

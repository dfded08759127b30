import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callJson } from '../helpers/server-process.ts';
import { ADMIN_TOKEN } from '../helpers/test-app.ts';
import { buildObservedApp, type ObservedApp, parseMetrics, sumOf } from './support.ts';

const APPEND = 'route="POST /v1/conversations/:id/turns"';

describe('GET /metrics after real traffic: every figure is there and has moved', () => {
  let o: ObservedApp;
  let base: string;
  let during: Map<string, number>;
  let after: Map<string, number>;
  let text: string;
  const secrets: string[] = [];

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  beforeAll(async () => {
    o = await buildObservedApp({
      busyTimeoutMs: 50,
      config: { maxStreamsPerTenant: 1, maxSessionsPerTenant: 10, localWordDelayMs: 40, sseFlushMs: 0 },
    });
    base = await o.app.listen({ host: '127.0.0.1', port: 0 });
    const tenant = await callJson<{ tenantId: string; apiKey: string }>(base, 'POST', '/v1/admin/tenants', {
      token: ADMIN_TOKEN,
      body: { name: 'metrics-tenant' },
    });
    const grant = (body: object) =>
      callJson<{ access_token: string; refresh_token: string }>(base, 'POST', '/v1/auth/token', { body });
    const first = await grant({ grant_type: 'api_key', api_key: tenant.body.apiKey, subject: 'patient-metrics' });
    const pair = await grant({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(pair.status).toBe(200);
    const token = pair.body.access_token;
    const admin = await grant({
      grant_type: 'api_key',
      api_key: tenant.body.apiKey,
      subject: 'auditor',
      scope: 'admin',
    });
    const open = async () =>
      (await callJson<{ id: string }>(base, 'POST', '/v1/conversations', { token, body: { title: 'x' } })).body.id;
    const append = (id: string, content: string, expectedTurn: number, extra: object = {}) =>
      callJson(base, 'POST', `/v1/conversations/${id}/turns`, {
        token,
        body: { role: 'user', content, expectedTurn, ...extra },
      });

    const a = await open();
    secrets.push(tenant.body.tenantId, a, 'patient-metrics', 'metformin');
    expect((await append(a, 'I take metformin 500 mg twice a day.', 0)).status).toBe(201);
    expect((await append(a, 'And lisinopril in the morning.', 1)).status).toBe(201);
    expect((await append(a, 'A stale writer.', 0)).status).toBe(409);
    expect((await callJson(base, 'GET', `/v1/conversations/${a}/context`, { token })).status).toBe(200);
    expect((await callJson(base, 'GET', `/v1/conversations/${a}/turns`, { token })).status).toBe(200);
    expect((await callJson(base, 'GET', '/v1/audit/events', { token: admin.body.access_token })).status).toBe(200);
    expect((await callJson(base, 'GET', '/readyz')).status).toBe(200);

    // Two replies for one tenant with one stream slot: one streams (SSE), the other waits in the queue.
    const b = await open();
    const c = await open();
    const streamed = await fetch(`${base}/v1/conversations/${b}/turns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ role: 'user', content: 'Tell me about my medications.', expectedTurn: 0, respond: true }),
    });
    const streamDone = streamed.text();
    const queued = append(c, 'And what about my allergies?', 0, { respond: true });
    for (const deadline = Date.now() + 10_000; ; ) {
      during = parseMetrics(await scrape());
      if (during.get('continuum_reply_queue_depth') === 1 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await streamDone).toContain('event: done');
    expect((await queued).status).toBe(201);

    // The store refuses writes while another connection holds its write lock.
    const db = new Database(o.dbFile);
    db.prepare('BEGIN IMMEDIATE').run();
    try {
      const refused = await append(a, 'while the store is locked', 2);
      expect(refused.status).toBe(503);
      expect((refused.body as { code: string }).code).toBe('store_unavailable');
    } finally {
      db.prepare('ROLLBACK').run();
      db.close();
    }
    // A context read waits for the context updates queued by the appends.
    await callJson(base, 'GET', `/v1/conversations/${c}/context`, { token });
    text = await scrape();
    after = parseMetrics(text);
  }, 60_000);

  afterAll(async () => o?.close());

  it('has the five figures of the plan, with latency per route class', () => {
    expect(sumOf(after, 'continuum_conversation_latency_seconds_count', APPEND)).toBeGreaterThanOrEqual(4);
    expect(
      sumOf(after, 'continuum_conversation_latency_seconds_count', 'route="GET /v1/conversations/:id/turns"'),
    ).toBe(1);
    expect(sumOf(after, 'continuum_token_generation_seconds_count', 'kind="api_key"')).toBe(2);
    expect(sumOf(after, 'continuum_token_generation_seconds_count', 'kind="refresh_token"')).toBe(1);
    expect(sumOf(after, 'continuum_token_generation_seconds_count', 'kind="first_delta"')).toBe(2);
    expect(sumOf(after, 'continuum_state_load_seconds_count')).toBeGreaterThan(5);
    expect(sumOf(after, 'continuum_requests_total', APPEND, 'outcome="success"')).toBeGreaterThanOrEqual(4);
    expect(sumOf(after, 'continuum_requests_total', APPEND, 'outcome="client_error"')).toBe(1);
    expect(sumOf(after, 'continuum_requests_total', APPEND, 'outcome="server_error"')).toBe(1);
    expect(sumOf(after, 'continuum_turns_total', 'outcome="appended"')).toBe(4);
    expect(sumOf(after, 'continuum_turns_total', 'outcome="conflict"')).toBe(1);
  });

  it('times SSE replies by their first delta, not as request latency', () => {
    // Four appends answered as JSON (two plain, the conflict, the queued reply) and the refused one: the stream is not timed.
    expect(sumOf(after, 'continuum_conversation_latency_seconds_count', APPEND)).toBe(5);
    expect(sumOf(after, 'continuum_requests_total', APPEND)).toBe(6);
  });

  it('has the continuity rate: every appended turn found its full prior context', () => {
    // Four user turns and two stored replies.
    expect(sumOf(after, 'continuum_turn_continuity_total', 'outcome="whole"')).toBe(6);
    expect(sumOf(after, 'continuum_turn_continuity_total', 'outcome="context_failed"')).toBe(0);
    expect(after.get('continuum_conversation_continuity_ratio')).toBe(1);
  });

  it('shows streams, generations and the reply queue while replies run', () => {
    expect(during.get('continuum_active_sse_streams')).toBe(1);
    expect(during.get('continuum_reply_generations_active')).toBe(1);
    expect(during.get('continuum_reply_queue_depth')).toBe(1);
    expect(after.get('continuum_active_sse_streams')).toBe(0);
    expect(after.get('continuum_reply_generations_active')).toBe(0);
    expect(after.get('continuum_reply_queue_depth')).toBe(0);
  });

  it('has session-pool occupancy, refresh outcomes, audit append latency, store and bus errors, component health', () => {
    expect(after.get('continuum_session_pool_active')).toBe(3);
    expect(after.get('continuum_session_pool_occupancy_ratio')).toBeCloseTo(0.3);
    expect(after.get('continuum_refresh_total{outcome="rotated"}')).toBe(1);
    expect(after.get('continuum_audit_append_seconds_count')).toBeGreaterThan(0);
    expect(sumOf(after, 'continuum_store_errors_total', 'operation="appendTurn"')).toBeGreaterThanOrEqual(1);
    expect(after.has('continuum_bus_errors_total')).toBe(true);
    expect(after.get('continuum_component_up{component="store"}')).toBe(1);
    expect(after.get('continuum_alerts_firing{alert="store_down"}')).toBe(0);
  });

  it('carries no tenant id, conversation id, subject or message text in any label', () => {
    for (const secret of secrets) expect(text.includes(secret), secret).toBe(false);
    for (const [series] of after) expect(series).not.toMatch(/cnv_|tnt_/);
  });
});

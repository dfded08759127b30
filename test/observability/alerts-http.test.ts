import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { startReceiver } from './webhook-receiver.ts';

interface AlertList {
  firing: { id: string; severity: string; firstSeen: string; resolvedAt: string | null; detail: string }[];
  resolved: { id: string; firstSeen: string; resolvedAt: string | null }[];
  evaluatedAt: string;
}

const MIN = 60_000;

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function alerts(t: TestApp): Promise<AlertList> {
  const res = await t.request({ method: 'GET', url: '/v1/admin/alerts', token: ADMIN_TOKEN });
  expect(res.statusCode).toBe(200);
  return res.json() as AlertList;
}

/** Log lines the app wrote, parsed. */
function logLines(lines: string[]): { msg?: string; level?: number; alert?: { id: string } }[] {
  return lines.flatMap((line) => line.split('\n').filter(Boolean)).map((line) => JSON.parse(line));
}

describe('GET /v1/admin/alerts: real failures raise alerts that are listed, logged and resolved', () => {
  let t: TestApp | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await t?.close().catch(() => {});
    await close?.();
    t = undefined;
    close = undefined;
  });

  it('needs the operator token', async () => {
    t = await buildTestApp();
    expect((await t.request({ method: 'GET', url: '/v1/admin/alerts' })).statusCode).toBe(401);
    const { apiKey } = await t.createTenant();
    const { access_token } = await t.token(apiKey, 'patient-1', 'admin');
    expect((await t.request({ method: 'GET', url: '/v1/admin/alerts', token: access_token })).statusCode).toBe(401);
    expect(await alerts(t)).toEqual({ firing: [], resolved: [], evaluatedAt: new Date(t.clock.now()).toISOString() });
  });

  it('refresh-token reuse fires at once, is logged and POSTed to the webhook (retried), and resolves after 15 min', async () => {
    const receiver = await startReceiver({ statuses: [500, 200] });
    close = receiver.close;
    const logs: string[] = [];
    t = await buildTestApp({
      config: { alertWebhook: receiver.url, logLevel: 'info' },
      logStream: { write: (line) => logs.push(line) },
    });
    const { apiKey } = await t.createTenant();
    const pair = await t.token(apiKey, 'patient-2');
    const refresh = (token: string) =>
      t!.request({
        method: 'POST',
        url: '/v1/auth/token',
        body: { grant_type: 'refresh_token', refresh_token: token },
      });
    expect((await refresh(pair.refresh_token)).statusCode).toBe(200);
    const reused = await refresh(pair.refresh_token);
    expect(reused.json().code).toBe('refresh_reused');

    const { firing } = await alerts(t);
    expect(firing).toMatchObject([
      { id: 'refresh_token_reuse', severity: 'warning', firstSeen: new Date(t.clock.now()).toISOString() },
    ]);
    const logged = logLines(logs).find((line) => line.msg === 'alert firing');
    expect(logged).toMatchObject({ level: 40, alert: { id: 'refresh_token_reuse' } });

    // The receiver answers 500 first: the webhook retries after a second.
    await receiver.until(2);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 200]);
    expect(receiver.received[1]!.body).toMatchObject({
      event: 'alert.firing',
      service: 'continuum',
      alert: { id: 'refresh_token_reuse', resolvedAt: null },
    });
    await expect
      .poll(async () => (await t!.request({ method: 'GET', url: '/metrics' })).body)
      .toMatch(/continuum_alert_webhook_total\{outcome="delivered"\} 1/);
    const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/continuum_alert_webhook_total\{outcome="retried"\} 1/);
    expect(metrics).toMatch(/continuum_refresh_total\{outcome="reused"\} 1/);

    t.clock.advance(15 * MIN);
    const later = await alerts(t);
    expect(later.firing).toEqual([]);
    expect(later.resolved).toMatchObject([
      { id: 'refresh_token_reuse', resolvedAt: new Date(t.clock.now()).toISOString() },
    ]);
    await receiver.until(3);
    expect(receiver.received[2]!.body).toMatchObject({ event: 'alert.resolved', alert: { id: 'refresh_token_reuse' } });
    expect(logLines(logs).some((line) => line.msg === 'alert resolved')).toBe(true);
  });

  it('a user turn the intent router flags as an emergency fires emergency_escalation', async () => {
    t = await buildTestApp({ config: { localWordDelayMs: 0 } });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
    const calm = await t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: { role: 'user', content: 'Can I move my appointment to Friday?', expectedTurn: 0, respond: true },
    });
    expect(calm.statusCode, calm.body).toBe(201);
    expect((await alerts(t)).firing).toEqual([]);
    const urgent = await t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: {
        role: 'user',
        content: 'I have crushing chest pain spreading to my left arm and I can hardly breathe.',
        expectedTurn: 2,
        respond: true,
      },
    });
    expect(urgent.statusCode, urgent.body).toBe(201);
    const list = await alerts(t);
    expect(list.firing.map((a) => [a.id, a.severity])).toEqual([['emergency_escalation', 'critical']]);
    t.clock.advance(15 * MIN + 1);
    const later = await alerts(t);
    expect(later.firing).toEqual([]);
    expect(later.resolved.map((a) => a.id)).toEqual(['emergency_escalation']);
  });

  it('a corrupted turn answered state_corrupt fires state_corrupt and counts the append as having lost its context', async () => {
    t = await buildTestApp();
    const { token, id } = await t.conversationWithTurns({ subject: 'patient-3', content: ['first', 'second'] });
    // Someone edits a stored turn behind the server's back. The first hex digit
    // is flipped, never overwritten with itself (one hash in 16 starts with 'f').
    const db = new Database(t.dbFile);
    const edited = db
      .prepare(
        "UPDATE turns SET hash = (CASE WHEN substr(hash, 1, 1) = 'f' THEN '0' ELSE 'f' END) || substr(hash, 2) WHERE conversation_id = ? AND number = 2",
      )
      .run(id);
    expect(edited.changes).toBe(1);
    db.close();
    const fresh = await buildTestApp({ dataDir: t.dataDir, clock: t.clock });
    try {
      const res = await fresh.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: 'third', expectedTurn: 2 },
      });
      expect(res.json().code).toBe('state_corrupt');
      expect((await alerts(fresh)).firing).toMatchObject([{ id: 'state_corrupt', severity: 'critical' }]);
      const metrics = (await fresh.request({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/continuum_state_corrupt_total 1/);
      expect(metrics).toMatch(/continuum_turn_continuity_total\{outcome="corrupt"\} 1/);
      expect(metrics).toMatch(/continuum_alerts_firing\{alert="state_corrupt"\} 1/);
    } finally {
      await fresh.close();
    }
  });

  it('an access token that cannot be signed fires jwt_signing_failure', async () => {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    // A new signing key arrives (as from another node) whose private key does not import.
    await t.services.store.insertSigningKey(
      {
        kid: 'sk_20261125_broken0broken',
        alg: 'EdDSA',
        privateJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA', d: 'AAAA' }),
        publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: 'AAAA' }),
        createdAt: new Date(t.clock.now() + 1).toISOString(),
        retiredAt: null,
      },
      null,
      { at: new Date(t.clock.now()), events: () => [] },
    );
    t.clock.advance(61_000); // the keyring re-reads its keys once a minute
    const res = await t.request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'api_key', api_key: apiKey, subject: 'patient-4' },
    });
    expect(res.statusCode).toBe(500);
    expect((await alerts(t)).firing.map((a) => a.id)).toEqual(['jwt_signing_failure']);
    expect((await t.request({ method: 'GET', url: '/metrics' })).body).toMatch(
      /continuum_token_signing_failures_total 1/,
    );
  });

  it('a store that stops answering fires store_down from the readiness check', async () => {
    t = await buildTestApp();
    expect((await alerts(t)).firing).toEqual([]);
    await t.services.store.close();
    expect((await t.request({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    const { firing } = await alerts(t);
    expect(firing).toMatchObject([{ id: 'store_down', severity: 'critical' }]);
    expect(firing[0]!.detail).toContain('store check failing');
  });

  it('a failing bus publish has the bus re-checked at once: bus_down fires without anyone probing', async () => {
    t = await buildTestApp({ config: { redisUrl: `redis://127.0.0.1:${await deadPort()}` } });
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-5');
    const created = await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} });
    expect(created.statusCode).toBe(201); // the change is kept; only its fan-out failed
    await expect
      .poll(async () => (await alerts(t!)).firing.map((a) => a.id), { timeout: 5_000, interval: 100 })
      .toEqual(['bus_down']);
    const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;
    expect(Number(/continuum_bus_errors_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/continuum_component_up\{component="bus"\} 0/);
  });
});

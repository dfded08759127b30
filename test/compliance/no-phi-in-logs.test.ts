import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

const MARKER = 'ZEBRAFISH-7731-warfarin';

describe('no PHI in logs or metrics', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('message text, titles, metadata and secrets never appear in a log line or a metric', async () => {
    const lines: string[] = [];
    t = await buildTestApp({ config: { logLevel: 'trace' }, logStream: { write: (line) => lines.push(line) } });
    const tenant = await t.createTenant();
    const pair = await t.token(tenant.apiKey, 'patient-phi');
    const token = pair.access_token;
    const created = await t.request({
      method: 'POST',
      url: '/v1/conversations',
      token,
      body: { title: `${MARKER} title`, metadata: { note: `${MARKER} meta` } },
    });
    const id = created.json().id as string;
    const key = 'idem-key-ZEBRAFISH';
    for (let n = 0; n < 3; n++) {
      await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        headers: { 'idempotency-key': `${key}-${n}` },
        body: { role: 'user', content: `I take ${MARKER} ${n}`, expectedTurn: n },
      });
    }
    // A conflict (its body carries missed turns), a read, a bad body echoing the marker, a refresh, a bad token.
    const conflict = await t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: { role: 'user', content: MARKER, expectedTurn: 0 },
    });
    expect(conflict.statusCode).toBe(409);
    await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token });
    await t.request({ method: 'POST', url: `/v1/conversations/${id}/turns`, token, body: { role: MARKER } });
    await t.request({ method: 'GET', url: `/v1/conversations?cursor=${MARKER}`, token });
    await t.request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
    });
    await t.request({ method: 'GET', url: '/v1/conversations', token: `${token}x` });
    const metrics = (await t.request({ method: 'GET', url: '/metrics' })).body;

    expect(lines.length).toBeGreaterThan(10);
    const log = lines.join('');
    for (const secret of [MARKER, 'ZEBRAFISH', token, pair.refresh_token, tenant.apiKey]) {
      expect(log.includes(secret), `log contains ${secret.slice(0, 20)}`).toBe(false);
      expect(metrics.includes(secret), `metrics contain ${secret.slice(0, 20)}`).toBe(false);
    }
    expect(metrics.includes(id)).toBe(false);
    // The requests were logged, and so was the failed authentication, only without the secrets.
    expect(log).toContain(`/v1/conversations/${id}/turns`);
    expect(log).toContain('authentication failed');
  });
});

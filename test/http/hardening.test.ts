import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('edges found in review', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('accepts the Bearer scheme in any case (RFC 7235)', async () => {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const res = await t.request({
      method: 'GET',
      url: '/v1/conversations',
      headers: { authorization: `bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it("a subject refused for its own excess does not drain its tenant's budget", async () => {
    t = await buildTestApp({ config: { rateLimitPerSubject: 5, rateLimitPerTenant: 10 } });
    const { apiKey } = await t.createTenant();
    const a = (await t.token(apiKey, 'patient-a')).access_token;
    const b = (await t.token(apiKey, 'patient-b')).access_token;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await t.request({ method: 'GET', url: '/v1/conversations', token: a })).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect((await t.request({ method: 'GET', url: '/v1/conversations', token: b })).statusCode).toBe(200);
  });

  it('a node that already verified a conversation still refuses to serve it with its last turn deleted', async () => {
    t = await buildTestApp();
    const { token, id } = await t.conversationWithTurns({ turns: 3 });
    expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token })).statusCode).toBe(200);
    const db = new Database(t.dbFile);
    db.prepare('DELETE FROM turns WHERE conversation_id = ? AND number = 3').run(id);
    db.close();
    const res = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token });
    expect(res.statusCode).toBe(500);
    expect(res.json().code).toBe('state_corrupt');
  });

  it('a second tenant with a taken name is 409 tenant_exists', async () => {
    t = await buildTestApp();
    await t.createTenant('north-clinic');
    const again = await t.request({
      method: 'POST',
      url: '/v1/admin/tenants',
      token: ADMIN_TOKEN,
      body: { name: 'north-clinic' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('tenant_exists');
  });

  it('keeps the database files owner-only', async () => {
    t = await buildTestApp();
    await t.createTenant();
    for (const suffix of ['', '-wal']) expect(statSync(`${t.dbFile}${suffix}`).mode & 0o777).toBe(0o600);
  });

  it("no access token outlives its refresh family's absolute lifetime", async () => {
    t = await buildTestApp({ config: { refreshFamilyTtl: 3600, refreshTokenTtl: 3000 } });
    const { apiKey } = await t.createTenant();
    let pair = await t.token(apiKey, 'patient-1');
    expect(pair.refresh_expires_in).toBe(3000);
    t.clock.advance(2900 * 1000);
    const res = await t.request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
    });
    pair = res.json();
    expect(pair.expires_in).toBe(700);
    expect(pair.refresh_expires_in).toBe(700);
    t.clock.advance((700 + 6) * 1000); // past exp and the 5 s clock tolerance
    const late = await t.request({ method: 'GET', url: '/v1/conversations', token: pair.access_token });
    expect(late.statusCode).toBe(401);
    expect(late.json().code).toBe('token_expired');
  });
});

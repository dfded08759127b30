import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantId } from '../../src/core/types.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * ADR-007 coverage: every route in the OpenAPI document declares the audit
 * actions it writes (`x-audit`), and calling it writes exactly those. A new
 * route without a declaration, or without a call here, fails this test.
 */

interface Operation {
  'x-audit'?: string[];
}

interface Fixture {
  ctx: Context;
}

interface Context {
  t: TestApp;
  apiKey: string;
  token: string;
  adminToken: string;
  refreshToken: string;
  conversationId: string;
}

type Call = (ctx: Context) => {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  token?: string;
  body?: unknown;
  /** An endless SSE stream: called over a real socket and left once its headers arrive. */
  stream?: boolean;
};

/** How to call each route successfully. */
const CALLS: Record<string, Call> = {
  'get /healthz': () => ({ method: 'GET', url: '/healthz' }),
  'get /readyz': () => ({ method: 'GET', url: '/readyz' }),
  'get /metrics': () => ({ method: 'GET', url: '/metrics' }),
  'get /.well-known/jwks.json': () => ({ method: 'GET', url: '/.well-known/jwks.json' }),
  'post /v1/admin/tenants': () => ({
    method: 'POST',
    url: '/v1/admin/tenants',
    token: ADMIN_TOKEN,
    body: { name: 'coverage-extra' },
  }),
  'post /v1/admin/signing-keys/rotate': () => ({
    method: 'POST',
    url: '/v1/admin/signing-keys/rotate',
    token: ADMIN_TOKEN,
  }),
  'post /v1/auth/token': (c) => ({
    method: 'POST',
    url: '/v1/auth/token',
    body: { grant_type: 'api_key', api_key: c.apiKey, subject: 'patient-7' },
  }),
  'post /v1/auth/revoke': (c) => ({ method: 'POST', url: '/v1/auth/revoke', body: { token: c.refreshToken } }),
  'post /v1/conversations': (c) => ({ method: 'POST', url: '/v1/conversations', token: c.token, body: { title: 'x' } }),
  'get /v1/conversations': (c) => ({ method: 'GET', url: '/v1/conversations', token: c.token }),
  'get /v1/conversations/{id}': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}`,
    token: c.token,
  }),
  'post /v1/conversations/{id}/turns': (c) => ({
    method: 'POST',
    url: `/v1/conversations/${c.conversationId}/turns`,
    token: c.token,
    body: { role: 'user', content: 'hello, I take metformin 500 mg twice a day', expectedTurn: 0 },
  }),
  'get /v1/conversations/{id}/turns': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/turns`,
    token: c.token,
  }),
  'post /v1/conversations/{id}/close': (c) => ({
    method: 'POST',
    url: `/v1/conversations/${c.conversationId}/close`,
    token: c.token,
  }),
  'get /v1/conversations/{id}/context': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/context?q=hello`,
    token: c.token,
  }),
  'get /v1/conversations/{id}/profile': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/profile`,
    token: c.token,
  }),
  'get /v1/conversations/{id}/search': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/search?q=hello`,
    token: c.token,
  }),
  'patch /v1/conversations/{id}/profile': (c) => ({
    method: 'PATCH',
    url: `/v1/conversations/${c.conversationId}/profile`,
    token: c.adminToken,
    body: { op: 'correct', fact: { kind: 'medication', id: 'med:metformin', dose: '1000 mg' } },
  }),
  'get /v1/conversations/{id}/events': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/events`,
    token: c.token,
    stream: true,
  }),
  'get /v1/audit/events': (c) => ({ method: 'GET', url: '/v1/audit/events', token: c.adminToken }),
  'get /v1/audit/verify': (c) => ({ method: 'GET', url: '/v1/audit/verify', token: c.adminToken }),
  'get /v1/audit/report': (c) => ({ method: 'GET', url: '/v1/audit/report', token: c.adminToken }),
};

/** Open an SSE route over a real socket, return its status once the headers arrive, and leave. */
async function openStream(t: TestApp, url: string, token: string): Promise<number> {
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const leave = new AbortController();
  const res = await fetch(`${address}${url}`, { headers: { authorization: `Bearer ${token}` }, signal: leave.signal });
  leave.abort();
  return res.status;
}

async function auditHeads(t: TestApp): Promise<Map<TenantId, number>> {
  const heads = new Map<TenantId, number>();
  for (const tenantId of await t.services.store.listAuditTenants()) {
    heads.set(tenantId, (await t.services.store.auditHead(tenantId))?.seq ?? 0);
  }
  return heads;
}

async function actionsSince(t: TestApp, before: Map<TenantId, number>): Promise<string[]> {
  const actions: string[] = [];
  for (const tenantId of await t.services.store.listAuditTenants()) {
    const events = await t.services.store.listAuditEvents(tenantId, {
      afterSeq: before.get(tenantId) ?? 0,
      limit: 1000,
    });
    actions.push(...events.map((event) => event.action));
  }
  return actions.sort();
}

describe('every route writes exactly the audit events it declares', () => {
  let t: TestApp;
  let operations: [string, Operation][];

  beforeAll(async () => {
    t = await buildTestApp();
    const doc = (await t.request({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, Operation>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => [`${method} ${path}`, op] as [string, Operation]),
    );
  });
  afterAll(async () => t.close());

  it('the OpenAPI document lists every route, each with an x-audit declaration', () => {
    expect(operations.length).toBeGreaterThanOrEqual(Object.keys(CALLS).length);
    for (const [key, op] of operations) {
      expect(op['x-audit'], `${key} declares no x-audit`).toBeInstanceOf(Array);
      expect(CALLS[key], `${key} has no call in this test: add one`).toBeDefined();
    }
  });

  it('state-changing and content-reading routes declare at least one action', () => {
    for (const [key, op] of operations) {
      if (key.startsWith('get /healthz') || key.startsWith('get /readyz') || key.startsWith('get /metrics')) continue;
      if (key === 'get /.well-known/jwks.json') continue;
      expect(op['x-audit']!.length, `${key} writes no audit event`).toBeGreaterThan(0);
    }
  });

  it('calling each route writes exactly its declared events', async () => {
    const tenant = await t.createTenant('coverage-main');
    const pair = await t.token(tenant.apiKey, 'patient-7');
    const admin = await t.token(tenant.apiKey, 'auditor-1', 'admin');
    const created = await t.request({ method: 'POST', url: '/v1/conversations', token: pair.access_token, body: {} });
    const ctx: Context = {
      t,
      apiKey: tenant.apiKey,
      token: pair.access_token,
      adminToken: admin.access_token,
      refreshToken: (await t.token(tenant.apiKey, 'patient-8')).refresh_token,
      conversationId: created.json().id,
    };
    // Close last: it makes the conversation read-only.
    const ordered = [...operations].sort(([a], [b]) => Number(a.endsWith('/close')) - Number(b.endsWith('/close')));
    for (const [key, op] of ordered) {
      const call = CALLS[key]!(ctx);
      const before = await auditHeads(t);
      if (call.stream) {
        expect(await openStream(t, call.url, call.token!), key).toBe(200);
      } else {
        const res = await t.request(call);
        expect(res.statusCode, `${key}: ${res.body}`).toBeLessThan(300);
      }
      // Checkpoints are written after the response; give them no chance to mix in.
      expect(await actionsSince(t, before), key).toEqual([...op['x-audit']!].sort());
    }
    void ({} as Fixture);
  });
});

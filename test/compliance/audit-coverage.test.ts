import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
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
  /** A WebSocket sync route: connected, authenticated with `token`, subscribed, then left. */
  socket?: boolean;
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
  'get /v1/admin/flags': () => ({ method: 'GET', url: '/v1/admin/flags', token: ADMIN_TOKEN }),
  'get /v1/admin/alerts': () => ({ method: 'GET', url: '/v1/admin/alerts', token: ADMIN_TOKEN }),
  'put /v1/admin/flags/{name}': () => ({
    method: 'PUT',
    url: '/v1/admin/flags/retrieval',
    token: ADMIN_TOKEN,
    body: { enabled: true },
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
  'get /v1/conversations/{id}/sync': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/sync`,
    token: c.token,
    socket: true,
  }),
  'get /v1/conversations/{id}/participants': (c) => ({
    method: 'GET',
    url: `/v1/conversations/${c.conversationId}/participants`,
    token: c.token,
  }),
  'post /v1/conversations/{id}/participants': (c) => ({
    method: 'POST',
    url: `/v1/conversations/${c.conversationId}/participants`,
    token: c.token,
    body: { subject: 'clinician-9' },
  }),
  // Runs after the POST above (routes are called in registration order), which made clinician-9 a participant.
  'delete /v1/conversations/{id}/participants/{subject}': (c) => ({
    method: 'DELETE',
    url: `/v1/conversations/${c.conversationId}/participants/clinician-9`,
    token: c.token,
  }),
  'get /v1/audit/events': (c) => ({ method: 'GET', url: '/v1/audit/events', token: c.adminToken }),
  'get /v1/audit/verify': (c) => ({ method: 'GET', url: '/v1/audit/verify', token: c.adminToken }),
  'get /v1/audit/report': (c) => ({ method: 'GET', url: '/v1/audit/report', token: c.adminToken }),
};

/** Open an SSE route over a real socket, return its status once the headers arrive, and leave. */
async function openStream(t: TestApp, url: string, token: string): Promise<number> {
  const address = await listening(t);
  const leave = new AbortController();
  const res = await fetch(`${address}${url}`, { headers: { authorization: `Bearer ${token}` }, signal: leave.signal });
  leave.abort();
  return res.status;
}

/** The app's address, listening on a free port first if it is not yet. */
async function listening(t: TestApp): Promise<string> {
  if (!t.app.server.listening) return t.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}

/** Connect to a sync route, authenticate, subscribe, and leave once subscribed; returns the last frame's type. */
async function openSocket(t: TestApp, url: string, token: string): Promise<string> {
  const socket = new WebSocket(`${(await listening(t)).replace(/^http/, 'ws')}${url}`);
  try {
    const frames = new Promise<string>((resolve, reject) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as { type: string };
        if (frame.type === 'ready') socket.send(JSON.stringify({ type: 'subscribe' }));
        else resolve(frame.type);
      });
      socket.once('close', (code) => reject(new Error(`closed with ${code}`)));
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'auth', token }));
    return await frames;
  } finally {
    socket.terminate();
  }
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
      if (key === 'get /v1/admin/flags') continue; // operator configuration, no tenant data
      if (key === 'get /v1/admin/alerts') continue; // operational state (rule ids, counts), no tenant data
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
      } else if (call.socket) {
        expect(await openSocket(t, call.url, call.token!), key).toBe('subscribed');
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

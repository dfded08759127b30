import { afterEach, describe, expect, it } from 'vitest';
import { SYSTEM_TENANT } from '../../src/audit/event.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { parseFlags } from '../../src/flags/index.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp, type TestAppOptions, tempDataDir } from '../helpers/test-app.ts';
import { expectProblem } from '../http/fixtures.ts';

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function node(options: TestAppOptions = {}): Promise<TestApp> {
  const t = await buildTestApp(options);
  closers.push(() => t.close());
  return t;
}

/** Two nodes on one database file and one fake clock. */
async function twoNodes(config: TestAppOptions['config'] = {}) {
  const dir = tempDataDir();
  closers.push(() => dir.remove());
  const clock = new FakeClock(Date.UTC(2026, 10, 25, 8, 0, 0));
  const a = await node({ dataDir: dir.dir, clock, config });
  const b = await node({ dataDir: dir.dir, clock, config });
  return { a, b, clock };
}

const putFlag = (t: TestApp, name: string, body: unknown, token = ADMIN_TOKEN) =>
  t.request({ method: 'PUT', url: `/v1/admin/flags/${name}`, token, body });

const listFlags = async (t: TestApp) => {
  const res = await t.request({ method: 'GET', url: '/v1/admin/flags', token: ADMIN_TOKEN });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as {
    name: string;
    enabled: boolean;
    tenants: string[];
    percent: number;
    updatedAt: string;
  }[];
};

const systemEvents = async (t: TestApp, afterSeq = 0) =>
  t.services.store.listAuditEvents(SYSTEM_TENANT, { afterSeq, limit: 1000 });
const systemHead = async (t: TestApp) => (await t.services.store.auditHead(SYSTEM_TENANT))?.seq ?? 0;

/** A conversation whose first turn is the only one about sulfa, far outside the recent window. */
async function sulfaConversation(t: TestApp) {
  const lines = ['Years ago I had a bad reaction to sulfa drugs: my face swelled up.'];
  for (let n = 0; n < 20; n++) lines.push(`Walking ${n + 1} minutes today felt fine.`);
  const { tenantId, token, id } = await t.conversationWithTurns({ content: lines });
  return { tenantId, token, id };
}

/** The turn numbers retrieved into the working context for a question about sulfa, as node `t` builds it. */
async function retrievedOn(t: TestApp, c: { token: string; id: string }): Promise<number[]> {
  const q = encodeURIComponent('Can I take Bactrim? It is a sulfa antibiotic.');
  const res = await t.request({ method: 'GET', url: `/v1/conversations/${c.id}/context?q=${q}`, token: c.token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().retrieved.map((turn: { number: number }) => turn.number);
}

describe('feature flags: GET and PUT /v1/admin/flags', () => {
  it('lists every known flag, on for every tenant until someone sets it', async () => {
    const t = await node();
    expect(await listFlags(t)).toEqual(
      ['model-context', 'retrieval', 'sync'].map((name) => ({
        name,
        description: expect.any(String),
        enabled: true,
        tenants: [],
        percent: 100,
        updatedAt: null,
      })),
    );
  });

  it('needs the operator token', async () => {
    const t = await node();
    const { apiKey } = await t.createTenant();
    const tenantAdmin = (await t.token(apiKey, 'auditor', 'admin')).access_token;
    expectProblem(await t.request({ method: 'GET', url: '/v1/admin/flags' }), 401, 'token_invalid');
    expectProblem(await putFlag(t, 'sync', { enabled: false }, tenantAdmin), 401, 'token_invalid');
    expect((await listFlags(t)).find((f) => f.name === 'sync')?.enabled).toBe(true);
  });

  it('refuses a bad body or an unknown flag with problem+json, and changes and audits nothing', async () => {
    const t = await node();
    const { tenantId } = await t.createTenant();
    const before = await listFlags(t);
    const head = await systemHead(t);
    for (const body of [
      {},
      { enabled: 'false' },
      { enabled: 1 },
      { enabled: false, percent: 101 },
      { enabled: true, percent: -1 },
      { enabled: true, percent: '50' },
      { enabled: true, tenants: ['acme-clinic'] },
      { enabled: true, tenants: [tenantId, tenantId] },
      { enabled: true, tenants: tenantId },
      { enabled: true, everyone: true },
      [true],
    ]) {
      const problem = expectProblem(await putFlag(t, 'retrieval', body), 400, 'invalid_request');
      expect(problem.detail, JSON.stringify(body)).toBeTruthy();
    }
    const unknown = expectProblem(await putFlag(t, 'retreival', { enabled: false }), 404, 'not_found');
    expect(unknown.detail).toContain('model-context, retrieval, sync');
    expect(await listFlags(t)).toEqual(before);
    expect((await systemEvents(t, head)).filter((e) => e.action === 'flag.update')).toEqual([]);
  });

  it('replaces a flag whole, with the percentage defaulting to 0 for an allow-list and 100 without', async () => {
    const t = await node();
    const { tenantId } = await t.createTenant();
    const listed = await putFlag(t, 'sync', { enabled: true, tenants: [tenantId] });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toMatchObject({ name: 'sync', enabled: true, tenants: [tenantId], percent: 0 });
    expect(listed.json().updatedAt).toBe(new Date(t.clock.now()).toISOString());
    const everyone = await putFlag(t, 'sync', { enabled: true });
    expect(everyone.json()).toMatchObject({ enabled: true, tenants: [], percent: 100 });
    const some = await putFlag(t, 'sync', { enabled: true, percent: 12.5 });
    expect(some.json()).toMatchObject({ enabled: true, tenants: [], percent: 12.5 });
    expect((await listFlags(t)).find((f) => f.name === 'sync')).toMatchObject({ percent: 12.5, tenants: [] });
  });

  it('audits each change as flag.update on the system chain, naming the operator and the new state', async () => {
    const t = await node();
    const { tenantId } = await t.createTenant();
    const head = await systemHead(t);
    const tenantHead = (await t.services.store.auditHead(tenantId as never))?.seq;
    expect((await putFlag(t, 'retrieval', { enabled: false, percent: 30 })).statusCode).toBe(200);
    const events = (await systemEvents(t, head)).filter((e) => e.action === 'flag.update');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: SYSTEM_TENANT,
      actor: { kind: 'operator' },
      resource: { type: 'flag', id: 'retrieval' },
      outcome: 'success',
      detail: { enabled: false, percent: 30, tenants: 0, source: 'api' },
    });
    // Nothing on the tenant's own chain.
    expect((await t.services.store.auditHead(tenantId as never))?.seq).toBe(tenantHead);
  });
});

describe('a flag switches its capability off for real', () => {
  it('retrieval off: no retrieved turns, on the node that changed it at once and on another within 5 s', async () => {
    const { a, b, clock } = await twoNodes();
    const c = await sulfaConversation(a);
    expect(await retrievedOn(a, c)).toEqual([1]);
    expect(await retrievedOn(b, c)).toEqual([1]);

    expect((await putFlag(a, 'retrieval', { enabled: false })).statusCode).toBe(200);
    expect(await retrievedOn(a, c)).toEqual([]);
    // The other node trusts its copy for up to 5 s…
    clock.advance(4_000);
    expect(await retrievedOn(b, c)).toEqual([1]);
    // …then re-reads the store.
    clock.advance(1_000);
    expect(await retrievedOn(b, c)).toEqual([]);

    expect((await putFlag(b, 'retrieval', { enabled: true })).statusCode).toBe(200);
    expect(await retrievedOn(b, c)).toEqual([1]);
    clock.advance(5_000);
    expect(await retrievedOn(a, c)).toEqual([1]);
  });

  it('retrieval for an allow-listed tenant only: the other tenants get none', async () => {
    const t = await node();
    const listed = await sulfaConversation(t);
    const other = await sulfaConversation(t);
    const res = await putFlag(t, 'retrieval', { enabled: true, tenants: [listed.tenantId] });
    expect(res.statusCode, res.body).toBe(200);
    expect(await retrievedOn(t, listed)).toEqual([1]);
    expect(await retrievedOn(t, other)).toEqual([]);
    // Disabled means off for everyone, the allow-list included.
    await putFlag(t, 'retrieval', { enabled: false, tenants: [listed.tenantId] });
    expect(await retrievedOn(t, listed)).toEqual([]);
  });
});

describe('CONTINUUM_FLAGS', () => {
  it('seeds the store with the flags it lacks; after that the store wins over any configuration', async () => {
    const dir = tempDataDir();
    closers.push(() => dir.remove());
    const first = await node({ dataDir: dir.dir, config: { flags: parseFlags('retrieval=off,sync=25%') } });
    expect(await listFlags(first)).toMatchObject([
      { name: 'model-context', enabled: true, percent: 100, updatedAt: null },
      { name: 'retrieval', enabled: false, updatedAt: expect.any(String) },
      { name: 'sync', enabled: true, percent: 25, updatedAt: expect.any(String) },
    ]);
    const seeded = (await systemEvents(first)).filter((e) => e.action === 'flag.update');
    expect(seeded.map((e) => [e.resource.id, e.actor.kind, e.detail?.source])).toEqual([
      ['retrieval', 'system', 'config'],
      ['sync', 'system', 'config'],
    ]);
    const c = await sulfaConversation(first);
    expect(await retrievedOn(first, c)).toEqual([]);

    // An operator turns retrieval back on; a node started later with the old setting does not undo it.
    expect((await putFlag(first, 'retrieval', { enabled: true })).statusCode).toBe(200);
    const head = await systemHead(first);
    const later = await node({ dataDir: dir.dir, config: { flags: parseFlags('retrieval=off,model-context=off') } });
    expect(await listFlags(later)).toMatchObject([
      { name: 'model-context', enabled: false },
      { name: 'retrieval', enabled: true },
      { name: 'sync', enabled: true, percent: 25 },
    ]);
    expect(await retrievedOn(later, c)).toEqual([1]);
    // Only the flag the store lacked was written.
    expect((await systemEvents(later, head)).map((e) => [e.action, e.resource.id])).toEqual([
      ['flag.update', 'model-context'],
    ]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { conversationId } from '../../src/conversations/session-id.ts';
import { asTenantId } from '../../src/core/types.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

const ID = /^cnv_[a-z2-7]{32}$/;
const STARTED = '2026-11-25T07:30:00.000Z';

describe('session IDs over HTTP (ADR-002)', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0).reverse()) await t.close();
  });

  async function setup(options: Parameters<typeof buildTestApp>[0] = {}) {
    const t = await buildTestApp(options);
    apps.push(t);
    const tenant = await t.createTenant();
    return { t, tenant, token: async (subject: string) => (await t.token(tenant.apiKey, subject)).access_token };
  }

  const create = (t: TestApp, token: string, body: Record<string, unknown>) =>
    t.request({ method: 'POST', url: '/v1/conversations', token, body });

  it('returns 200 and the same conversation when the same subject creates again with the same clientKey and startedAt', async () => {
    const { t, token } = await setup();
    const patient = await token('patient-1');
    const first = await create(t, patient, { clientKey: 'tablet-3', startedAt: STARTED, title: 'intake' });
    expect(first.statusCode).toBe(201);
    expect(first.json().id).toMatch(ID);
    const again = await create(t, patient, { clientKey: 'tablet-3', startedAt: STARTED, title: 'intake' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    // The same instant written another way is the same start.
    const sameInstant = await create(t, patient, { clientKey: 'tablet-3', startedAt: '2026-11-25T08:30:00+01:00' });
    expect(sameInstant.statusCode).toBe(200);
    expect(sameInstant.json().id).toBe(first.json().id);
    const list = await t.request({ method: 'GET', url: '/v1/conversations', token: patient });
    expect(list.json().items).toHaveLength(1);
  });

  it('gives a different id when the subject, the clientKey or startedAt differs (by one millisecond)', async () => {
    const { t, token } = await setup();
    const one = await token('patient-1');
    const two = await token('patient-2');
    const base = { clientKey: 'tablet-3', startedAt: STARTED };
    const responses = [
      await create(t, one, base),
      await create(t, two, base),
      await create(t, one, { ...base, clientKey: 'tablet-4' }),
      await create(t, one, { ...base, startedAt: '2026-11-25T07:30:00.001Z' }),
    ];
    for (const res of responses) expect(res.statusCode).toBe(201);
    expect(new Set(responses.map((res) => res.json().id)).size).toBe(4);
  });

  it('gives the same inputs in two tenants two different conversations', async () => {
    const { t, token } = await setup();
    const other = await t.createTenant();
    const here = await create(t, await token('patient-1'), { clientKey: 'k', startedAt: STARTED });
    const there = await create(t, (await t.token(other.apiKey, 'patient-1')).access_token, {
      clientKey: 'k',
      startedAt: STARTED,
    });
    expect(here.statusCode).toBe(201);
    expect(there.statusCode).toBe(201);
    expect(here.json().id).not.toBe(there.json().id);
  });

  it('starts a new conversation on every create without a clientKey, even at the same startedAt', async () => {
    const { t, token } = await setup();
    const patient = await token('patient-1');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await create(t, patient, { startedAt: STARTED });
      expect(res.statusCode).toBe(201);
      expect(res.json().id).toMatch(ID);
      ids.add(res.json().id);
    }
    expect(ids.size).toBe(5);
  });

  it('1,000 conversations created through two app instances: each repeat yields the same id on the other instance; different inputs never collide', async () => {
    const { t: a, token } = await setup({ config: { maxSessionsPerTenant: 0 } });
    const b = await buildTestApp({ dataDir: a.dataDir, clock: a.clock, config: { maxSessionsPerTenant: 0 } });
    apps.push(b);
    const subjects = await Promise.all(Array.from({ length: 10 }, (_, i) => token(`patient-${i}`)));
    const ids = new Set<string>();
    for (let batch = 0; batch < 1000; batch += 100) {
      const inputs = Array.from({ length: 100 }, (_, j) => {
        const n = batch + j;
        return {
          token: subjects[n % 10]!,
          body: {
            clientKey: `device-${Math.floor(n / 10) % 25}`,
            startedAt: new Date(Date.UTC(2026, 10, 25) + Math.floor(n / 250)).toISOString(),
          },
        };
      });
      const first = await Promise.all(inputs.map((input) => create(a, input.token, input.body)));
      const repeat = await Promise.all(inputs.map((input) => create(b, input.token, input.body)));
      for (const [i, res] of first.entries()) {
        expect(res.statusCode, res.body).toBe(201);
        expect(repeat[i]!.statusCode).toBe(200);
        expect(repeat[i]!.json().id).toBe(res.json().id);
        ids.add(res.json().id);
      }
    }
    expect(ids.size).toBe(1000);
  });
});

describe('conversationId() — the one session-ID function', () => {
  const secret = 's'.repeat(40);
  const input = {
    tenantId: asTenantId('tnt_aaaaaaaaaaaaaaaa'),
    subject: 'patient-1',
    startedAtMs: 1_764_000_000_000,
    clientKey: 'k',
  };

  it('is deterministic and formatted cnv_ + 32 base32 characters', () => {
    expect(conversationId(secret, input)).toBe(conversationId(secret, { ...input }));
    expect(conversationId(secret, input)).toMatch(ID);
  });

  it('length-prefixes each part, so shifting characters between neighbouring parts changes the id', () => {
    const at = (tenantId: string, subject: string, startedAtMs: number, clientKey: string) =>
      conversationId(secret, { tenantId: asTenantId(tenantId), subject, startedAtMs, clientKey });
    expect(at('tnt_ab', 'c', 1, 'k')).not.toBe(at('tnt_a', 'bc', 1, 'k'));
    expect(at('t', 'ab1', 2, 'k')).not.toBe(at('t', 'ab', 12, 'k'));
    expect(at('t', 's', 12, 'k')).not.toBe(at('t', 's', 1, '2k'));
  });

  it('depends on the secret', () => {
    expect(conversationId('x'.repeat(40), input)).not.toBe(conversationId(secret, input));
  });

  it('refuses a short secret and a non-integer start', () => {
    expect(() => conversationId('short', input)).toThrow(TypeError);
    expect(() => conversationId(secret, { ...input, startedAtMs: 1.5 })).toThrow(TypeError);
  });
});

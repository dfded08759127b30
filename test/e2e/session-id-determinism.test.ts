import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, tempDataDir } from '../helpers/test-app.ts';
import type { Conversation } from './support.ts';

const SUBJECTS = ['patient-a', 'patient-b', 'patient-c', 'patient-d'];
const BASE_MS = Date.UTC(2026, 2, 1, 9, 30, 0, 250);

interface Triple {
  subject: string;
  clientKey: string;
  startedAt: string;
}

/**
 * 1,000 distinct (subject, clientKey, startedAt) triples that share parts
 * heavily: 4 subjects × 25 client keys × 10 start times 1 ms apart. Triple
 * i = 4a + r has subject r, client key a % 25 and start a / 25, so each `a`
 * in 0..249 gives one (key, start) pair, and no two triples are equal.
 */
function triples(count: number): Triple[] {
  return Array.from({ length: count }, (_, i) => {
    const a = Math.floor(i / SUBJECTS.length);
    return {
      subject: SUBJECTS[i % SUBJECTS.length]!,
      clientKey: `device-${a % 25}`,
      startedAt: new Date(BASE_MS + Math.floor(a / 25)).toISOString(),
    };
  });
}

async function inChunks<T, R>(items: T[], size: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    out.push(...(await Promise.all(items.slice(start, start + size).map((item, j) => fn(item, start + j)))));
  }
  return out;
}

// ADR-002, issue 2: "1,000 conversations created through two app instances:
// every repeat of the same (subject, clientKey, startedAt) yields the same ID
// on both; different inputs never collide." Two independent apps (own store
// connection, key provider, keyring, services and clock) share one data dir.
describe('session IDs: two app instances on one data dir', () => {
  const data = tempDataDir();
  let a: TestApp;
  let b: TestApp;
  let apiKey: string;
  /** tokens[instance][subject] */
  const tokens: Record<'a' | 'b', Record<string, string>> = { a: {}, b: {} };

  beforeAll(async () => {
    a = await buildTestApp({ dataDir: data.dir, config: { maxSessionsPerTenant: 0 } });
    b = await buildTestApp({ dataDir: data.dir, config: { maxSessionsPerTenant: 0 } });
    ({ apiKey } = await a.createTenant(`ids-${process.pid}`));
    for (const subject of SUBJECTS) {
      tokens.a[subject] = (await a.token(apiKey, subject)).access_token;
      tokens.b[subject] = (await b.token(apiKey, subject)).access_token;
    }
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    data.remove();
  });

  const create = (app: TestApp, token: string, body: Record<string, unknown>) =>
    app.request({ method: 'POST', url: '/v1/conversations', token, body });

  it('the two instances are independent objects on the same files', () => {
    expect(a.app).not.toBe(b.app);
    expect(a.services.store).not.toBe(b.services.store);
    expect(a.services.conversations).not.toBe(b.services.conversations);
    expect(a.services.keyProvider).not.toBe(b.services.keyProvider);
    expect(a.clock).not.toBe(b.clock);
    expect(a.dbFile).toBe(b.dbFile);
  });

  it('1,000 triples: 201 on A, then 200 with the same ID on B and again on A; all 1,000 IDs distinct; lists agree', async () => {
    const inputs = triples(1000);
    expect(new Set(inputs.map((t) => JSON.stringify(t))).size).toBe(1000);

    const first = await inChunks(inputs, 50, async (t, i) => {
      const res = await create(a, tokens.a[t.subject]!, {
        clientKey: t.clientKey,
        startedAt: t.startedAt,
        title: `c${i}`,
      });
      return { status: res.statusCode, body: res.json() as Conversation & { startedAt: string; title: string } };
    });
    expect(first.filter((r) => r.status !== 201)).toEqual([]);
    const ids = first.map((r) => r.body.id);
    for (const [i, r] of first.entries()) {
      expect(r.body).toMatchObject({ subject: inputs[i]!.subject, startedAt: inputs[i]!.startedAt, turn: 0 });
      expect(r.body.id).toMatch(/^cnv_[a-z2-7]{32}$/);
    }
    expect(new Set(ids).size).toBe(1000);

    for (const [instance, app] of [
      ['b', b],
      ['a', a],
    ] as const) {
      const again = await inChunks(inputs, 50, async (t, i) => {
        const res = await create(app, tokens[instance][t.subject]!, {
          clientKey: t.clientKey,
          startedAt: t.startedAt,
          title: `c${i}`,
        });
        return { status: res.statusCode, body: res.json() as Conversation };
      });
      expect(again.filter((r) => r.status !== 200)).toEqual([]);
      // Same conversation, not merely the same id.
      expect(again.map((r) => r.body)).toEqual(first.map((r) => r.body));
    }

    // Nothing was created twice: the tenant holds exactly the 1,000, and each subject its 250.
    const admin = (await b.token(apiKey, 'operator-1', 'admin')).access_token;
    const listed: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await b.request({
        method: 'GET',
        url: `/v1/conversations?limit=100${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        token: admin,
      });
      expect(res.statusCode).toBe(200);
      const page = res.json() as { items: Conversation[]; nextCursor: string | null };
      listed.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(listed).toHaveLength(1000);
    expect(new Set(listed)).toEqual(new Set(ids));

    for (const subject of SUBJECTS) {
      let count = 0;
      let next: string | null = null;
      do {
        const res = await a.request({
          method: 'GET',
          url: `/v1/conversations?limit=100${next === null ? '' : `&cursor=${encodeURIComponent(next)}`}`,
          token: tokens.a[subject]!,
        });
        const page = res.json() as { items: Conversation[]; nextCursor: string | null };
        expect(page.items.every((c) => c.subject === subject)).toBe(true);
        count += page.items.length;
        next = page.nextCursor;
      } while (next !== null);
      expect(count).toBe(250);
    }
  });

  it('the same triple in another tenant is a different conversation', async () => {
    const other = await b.createTenant(`ids-other-${process.pid}`);
    const inputs = triples(40);
    const mine = await inChunks(inputs, 20, async (t) => {
      const res = await create(a, tokens.a[t.subject]!, { clientKey: t.clientKey, startedAt: t.startedAt });
      expect(res.statusCode).toBe(200);
      return res.json() as Conversation;
    });
    const otherTokens: Record<string, string> = {};
    for (const subject of SUBJECTS) otherTokens[subject] = (await b.token(other.apiKey, subject)).access_token;
    const theirs = await inChunks(inputs, 20, async (t) => {
      const res = await create(b, otherTokens[t.subject]!, { clientKey: t.clientKey, startedAt: t.startedAt });
      expect(res.statusCode).toBe(201);
      return res.json() as Conversation;
    });
    const mineIds = new Set(mine.map((c) => c.id));
    expect(theirs.filter((c) => mineIds.has(c.id))).toEqual([]);
    expect(new Set(theirs.map((c) => c.id)).size).toBe(40);
  });

  it('one instant written three ways (Z, .000Z, +01:00) is one startedAt and one ID on both instances', async () => {
    const token = tokens.a['patient-a']!;
    const forms = ['2026-04-02T08:00:00Z', '2026-04-02T08:00:00.000Z', '2026-04-02T09:00:00+01:00'];
    const res = [
      await create(a, token, { clientKey: 'tz-key', startedAt: forms[0] }),
      await create(b, tokens.b['patient-a']!, { clientKey: 'tz-key', startedAt: forms[1] }),
      await create(a, token, { clientKey: 'tz-key', startedAt: forms[2] }),
    ];
    expect(res.map((r) => r.statusCode)).toEqual([201, 200, 200]);
    expect(new Set(res.map((r) => (r.json() as Conversation).id)).size).toBe(1);
  });

  it('the same new triple created on A and B at once: one 201, one 200, one ID', async () => {
    const inputs = triples(100).map((t) => ({ ...t, clientKey: `race-${t.clientKey}` }));
    const pairs = await inChunks(inputs, 25, async (t) => {
      const body = { clientKey: t.clientKey, startedAt: t.startedAt };
      const [fromA, fromB] = await Promise.all([
        create(a, tokens.a[t.subject]!, body),
        create(b, tokens.b[t.subject]!, body),
      ]);
      return { statuses: [fromA.statusCode, fromB.statusCode].sort(), ids: [fromA.json().id, fromB.json().id] };
    });
    for (const { statuses, ids } of pairs) {
      expect(statuses).toEqual([200, 201]);
      expect(ids[0]).toBe(ids[1]);
    }
    expect(new Set(pairs.map((p) => p.ids[0])).size).toBe(100);
  });
});

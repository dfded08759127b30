import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { appendTurns, createConversation, expectProblem } from '../http/fixtures.ts';

const textOf = (patient: string, n: number) => `${patient} note ${n}: takes warfarin ${n} mg`;

describe('tampered turns in the database are refused with 500 state_corrupt, never served (ADR-003, ADR-008)', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0).reverse()) await t.close();
  });

  async function setup() {
    const t = await buildTestApp();
    apps.push(t);
    const { apiKey } = await t.createTenant();
    const alice = (await t.token(apiKey, 'patient-alice')).access_token;
    const bob = (await t.token(apiKey, 'patient-bob')).access_token;
    const aliceId = await createConversation(t, alice);
    const bobId = await createConversation(t, bob);
    await appendTurns(
      t,
      alice,
      aliceId,
      Array.from({ length: 8 }, (_, i) => textOf('alice', i + 1)),
    );
    await appendTurns(
      t,
      bob,
      bobId,
      Array.from({ length: 8 }, (_, i) => textOf('bob', i + 1)),
    );
    // Both conversations load cleanly before any tampering, on this node and on a fresh one.
    const fresh = await freshNode(t);
    for (const [token, id] of [
      [alice, aliceId],
      [bob, bobId],
    ] as const) {
      expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token })).statusCode).toBe(200);
      expect((await fresh.request({ method: 'GET', url: `/v1/conversations/${id}`, token })).statusCode).toBe(200);
    }
    return { t, alice, bob, aliceId, bobId };
  }

  /** Another app instance on the same data dir: it has verified nothing yet. */
  async function freshNode(t: TestApp) {
    const node = await buildTestApp({ dataDir: t.dataDir, clock: t.clock });
    apps.push(node);
    return node;
  }

  function tamper(t: TestApp, sql: string, ...params: unknown[]) {
    const db = new Database(t.dbFile);
    try {
      expect(db.prepare(sql).run(...params).changes).toBe(1);
    } finally {
      db.close();
    }
  }

  function expectCorrupt(res: Awaited<ReturnType<TestApp['request']>>, ...secrets: string[]) {
    expectProblem(res, 500, 'state_corrupt');
    for (const secret of ['warfarin', ...secrets]) expect(res.body).not.toContain(secret);
  }

  const contentOf = 'SELECT content FROM turns WHERE conversation_id = ? AND number = ?';

  it("(a) turn 5's content overwritten with turn 6's: a fresh node's load and this node's turn listing both fail", async () => {
    const { t, alice, aliceId } = await setup();
    tamper(
      t,
      `UPDATE turns SET content = (${contentOf}) WHERE conversation_id = ? AND number = 5`,
      aliceId,
      6,
      aliceId,
    );
    const fresh = await freshNode(t);
    expectCorrupt(await fresh.request({ method: 'GET', url: `/v1/conversations/${aliceId}`, token: alice }));
    expectCorrupt(await t.request({ method: 'GET', url: `/v1/conversations/${aliceId}/turns`, token: alice }));
    expectCorrupt(
      await fresh.request({
        method: 'POST',
        url: `/v1/conversations/${aliceId}/turns`,
        token: alice,
        body: { role: 'user', content: 'next', expectedTurn: 8 },
      }),
    );
  });

  it('(b) a deleted turn row fails the load, in the middle or at the head', async () => {
    const { t, alice, bob, aliceId, bobId } = await setup();
    tamper(t, 'DELETE FROM turns WHERE conversation_id = ? AND number = 4', aliceId);
    tamper(t, 'DELETE FROM turns WHERE conversation_id = ? AND number = 8', bobId);
    const fresh = await freshNode(t);
    expectCorrupt(await fresh.request({ method: 'GET', url: `/v1/conversations/${aliceId}`, token: alice }));
    expectCorrupt(await fresh.request({ method: 'GET', url: `/v1/conversations/${bobId}`, token: bob }));
    expectCorrupt(await t.request({ method: 'GET', url: `/v1/conversations/${aliceId}/turns`, token: alice }));
  });

  it("(c) a turn's role changed fails the load", async () => {
    const { t, alice, aliceId } = await setup();
    tamper(t, "UPDATE turns SET role = 'clinician' WHERE conversation_id = ? AND number = 3", aliceId);
    const fresh = await freshNode(t);
    expectCorrupt(await fresh.request({ method: 'GET', url: `/v1/conversations/${aliceId}`, token: alice }));
    expectCorrupt(await t.request({ method: 'GET', url: `/v1/conversations/${aliceId}/turns`, token: alice }));
  });

  it("(d) a content blob copied from Alice's conversation into Bob's fails Bob's load and never shows Alice's text", async () => {
    const { t, bob, aliceId, bobId } = await setup();
    tamper(t, `UPDATE turns SET content = (${contentOf}) WHERE conversation_id = ? AND number = 2`, aliceId, 2, bobId);
    const fresh = await freshNode(t);
    expectCorrupt(await fresh.request({ method: 'GET', url: `/v1/conversations/${bobId}`, token: bob }), 'alice');
    const listing = await t.request({ method: 'GET', url: `/v1/conversations/${bobId}/turns`, token: bob });
    expectCorrupt(listing, 'alice');
  });

  it('(e) old turns only retrieval reads, overwritten or their predecessor deleted after the index was built, fail the search', async () => {
    const { t, alice, bob, aliceId, bobId } = await setup();
    const search = (id: string, token: string, q: string) =>
      t.request({ method: 'GET', url: `/v1/conversations/${id}/search?q=${q}`, token });
    // The first searches build this node's indexes from verified turns; turn n is the only one with the word "n".
    for (const [id, token, n] of [
      [aliceId, alice, 2],
      [bobId, bob, 3],
    ] as const) {
      const before = await search(id, token, String(n));
      expect(before.statusCode).toBe(200);
      expect((before.json() as { items: { number: number }[] }).items.map((i) => i.number)).toEqual([n]);
    }
    tamper(
      t,
      `UPDATE turns SET content = (${contentOf}) WHERE conversation_id = ? AND number = 2`,
      aliceId,
      7,
      aliceId,
    );
    tamper(t, 'DELETE FROM turns WHERE conversation_id = ? AND number = 2', bobId);
    // This node proved both chains before the tamper and reads nothing else: loading them still passes.
    for (const [id, token] of [
      [aliceId, alice],
      [bobId, bob],
    ] as const) {
      expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token })).statusCode).toBe(200);
    }
    expectCorrupt(await search(aliceId, alice, '2'));
    expectCorrupt(await search(bobId, bob, '3'));
  });
});

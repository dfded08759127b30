import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configWith } from '../../src/config/index.ts';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { buildApp } from '../../src/server/app.ts';
import { MASTER_KEY_FILE, SQLITE_FILE } from '../../src/server/runtime.ts';
import { createSqliteStore } from '../../src/store/adapters/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/port.ts';
import { ADMIN_TOKEN, buildTestApp, type TestApp } from '../helpers/test-app.ts';
import {
  appendTurn,
  appendTurns,
  createConversation,
  expectProblem,
  readAllTurns,
  type TurnBody,
} from '../http/fixtures.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function node(options: Parameters<typeof buildTestApp>[0] = {}) {
  const t = await buildTestApp(options);
  closers.push(() => t.close());
  return t;
}

/**
 * A second node on `first`'s database file whose store runs `beforeFirstListTurns`
 * just before its first turn read: the moment another node's commit can land in
 * production, between reading a conversation row and walking its turns.
 */
async function nodeWithInterleaving(first: TestApp, beforeFirstListTurns: () => Promise<void>) {
  const store = createSqliteStore({ filename: path.join(first.dataDir, SQLITE_FILE) });
  await store.migrate();
  let fired = false;
  const interleaved = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property === 'listTurns') {
        return async (...args: Parameters<Store['listTurns']>) => {
          if (!fired) {
            fired = true;
            await beforeFirstListTurns();
          }
          return target.listTurns(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const keyProvider = await createLocalKeyProvider({ keyFile: path.join(first.dataDir, MASTER_KEY_FILE) });
  const config = configWith({
    dataDir: first.dataDir,
    rateLimitPerTenant: 0,
    rateLimitPerSubject: 0,
    logLevel: 'silent',
  });
  const { app } = await buildApp(config, {
    store: interleaved,
    keyProvider,
    adminToken: ADMIN_TOKEN,
    clock: first.clock,
    logger: false,
  });
  closers.push(async () => {
    await app.close();
    await store.close();
  });
  return (url: string, token: string, body?: unknown) =>
    app.inject({
      method: body === undefined ? 'GET' : 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
}

describe('two app instances on one database file', () => {
  async function twoNodes() {
    const a = await node();
    const b = await node({ dataDir: a.dataDir, clock: a.clock });
    const { apiKey } = await a.createTenant();
    const { access_token: token } = await a.token(apiKey, 'patient-1');
    const id = await createConversation(a, token);
    return { a, b, token, id };
  }

  it('of 100 concurrent appends naming expectedTurn 0, split over two instances, exactly one wins; 99 get 409 with the winner as missed', async () => {
    const { a, b, token, id } = await twoNodes();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        appendTurn(i % 2 === 0 ? a : b, token, id, { content: `writer ${i}`, expectedTurn: 0 }),
      ),
    );
    const winners = results.filter((res) => res.statusCode === 201);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.json().turn as TurnBody;
    const losers = results.filter((res) => res.statusCode !== 201);
    expect(losers).toHaveLength(99);
    for (const loser of losers) {
      expect(expectProblem(loser, 409, 'turn_conflict')).toMatchObject({ currentTurn: 1, missed: [winner] });
    }
    expect(await readAllTurns(b, token, id)).toEqual([winner]);
  });

  it('20 writers over two instances, 5 rounds each retrying from currentTurn: one winner per turn number, no gap, no duplicate, right missed turns', async () => {
    const { a, b, token, id } = await twoNodes();
    const WRITERS = 20;
    const ROUNDS = 5;
    const conflicts: { expected: number; currentTurn: number; missed: TurnBody[] }[] = [];
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, writer) => {
        const via = writer % 2 === 0 ? a : b;
        let expected = 0;
        for (let round = 0; round < ROUNDS; round++) {
          for (let attempt = 0; ; attempt++) {
            expect(attempt, 'a writer starves').toBeLessThan(WRITERS * ROUNDS);
            const content = `w${writer} r${round}`;
            const res = await appendTurn(via, token, id, { content, expectedTurn: expected });
            if (res.statusCode === 201) {
              expected = res.json().turn.number;
              break;
            }
            const problem = expectProblem(res, 409, 'turn_conflict');
            const currentTurn = problem['currentTurn'] as number;
            conflicts.push({ expected, currentTurn, missed: problem['missed'] as TurnBody[] });
            expected = currentTurn;
          }
        }
      }),
    );
    const total = WRITERS * ROUNDS;
    expect(conflicts.length).toBeGreaterThan(0);
    for (const reader of [a, b]) {
      const turns = await readAllTurns(reader, token, id);
      expect(turns.map((turn) => turn.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(new Set(turns.map((turn) => turn.content)).size).toBe(total);
      for (const conflict of conflicts) {
        expect(conflict.missed).toEqual(turns.slice(conflict.expected, conflict.currentTurn));
      }
    }
  });

  // Regression guards for a false state_corrupt: the chain walk once read turns
  // committed by another node after the conversation row was read.
  it('does not report corruption when another node appends between this node reading the conversation and walking its turns', async () => {
    const a = await node();
    const { apiKey } = await a.createTenant();
    const { access_token: token } = await a.token(apiKey, 'patient-1');
    const id = await createConversation(a, token);
    await appendTurns(a, token, id, ['one', 'two', 'three']);
    const onB = await nodeWithInterleaving(a, async () => {
      expect((await appendTurn(a, token, id, { content: 'four', expectedTurn: 3 })).statusCode).toBe(201);
    });
    const res = await onB(`/v1/conversations/${id}`, token);
    expect(res.statusCode, res.body).toBe(200);
  });

  it('answers the loser of a cross-node race with 409 turn_conflict, not 500 state_corrupt', async () => {
    const a = await node();
    const { apiKey } = await a.createTenant();
    const { access_token: token } = await a.token(apiKey, 'patient-1');
    const id = await createConversation(a, token);
    await appendTurns(a, token, id, ['one', 'two', 'three']);
    const onB = await nodeWithInterleaving(a, async () => {
      expect((await appendTurn(a, token, id, { content: 'four from A', expectedTurn: 3 })).statusCode).toBe(201);
    });
    const res = await onB(`/v1/conversations/${id}/turns`, token, {
      role: 'user',
      content: 'four from B',
      expectedTurn: 3,
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ code: 'turn_conflict', currentTurn: 4 });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import {
  appendTurn,
  appendTurns,
  createConversation,
  expectProblem,
  readAllTurns,
  type TurnBody,
} from '../http/fixtures.ts';

describe('strictly ordered turns (ADR-003)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function setup() {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const id = await createConversation(t, token);
    return { token, id };
  }

  it('answers a stale expectedTurn with 409 turn_conflict carrying currentTurn and exactly the missed turns', async () => {
    const { token, id } = await setup();
    await appendTurns(t, token, id, ['one', 'two', 'three', 'four', 'five']);
    const res = await appendTurn(t, token, id, { content: 'late', expectedTurn: 2 });
    const problem = expectProblem(res, 409, 'turn_conflict');
    expect(problem['currentTurn']).toBe(5);
    const history = await readAllTurns(t, token, id);
    expect(problem['missed']).toEqual(history.slice(2));
    expect((problem['missed'] as TurnBody[]).map((turn) => turn.content)).toEqual(['three', 'four', 'five']);
    expect(history).toHaveLength(5);
  });

  it('answers an expectedTurn ahead of the conversation with 409, currentTurn and no missed turns', async () => {
    const { token, id } = await setup();
    await appendTurns(t, token, id, ['one']);
    const problem = expectProblem(
      await appendTurn(t, token, id, { content: 'x', expectedTurn: 9 }),
      409,
      'turn_conflict',
    );
    expect(problem).toMatchObject({ currentTurn: 1, missed: [] });
    expect(await readAllTurns(t, token, id)).toHaveLength(1);
  });

  it('takes If-Match: "3" (the ETag of GET) as expectedTurn', async () => {
    const { token, id } = await setup();
    await appendTurns(t, token, id, ['one', 'two', 'three']);
    const etag = (await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token })).headers.etag;
    expect(etag).toBe('"3"');
    const res = await appendTurn(t, token, id, { content: 'four' }, { 'if-match': '"3"' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().turn.number).toBe(4);
    expect(res.headers.etag).toBe('"4"');
    const stale = await appendTurn(t, token, id, { content: 'stale' }, { 'if-match': '"3"' });
    expect(expectProblem(stale, 409, 'turn_conflict')['currentTurn']).toBe(4);
  });

  it('refuses If-Match and expectedTurn that disagree, neither of them, or a malformed If-Match with 400 and writes nothing', async () => {
    const { token, id } = await setup();
    await appendTurns(t, token, id, ['one', 'two', 'three']);
    const attempts: [Record<string, unknown>, Record<string, string> | undefined][] = [
      [{ content: 'x', expectedTurn: 3 }, { 'if-match': '"2"' }],
      [{ content: 'x', expectedTurn: 2 }, { 'if-match': '"3"' }],
      [{ content: 'x' }, undefined],
      [{ content: 'x' }, { 'if-match': '3' }],
      [{ content: 'x' }, { 'if-match': '"three"' }],
    ];
    for (const [body, headers] of attempts) {
      expectProblem(await appendTurn(t, token, id, body, headers), 400, 'invalid_request');
    }
    expect(await readAllTurns(t, token, id)).toHaveLength(3);
  });

  it('refuses appends to a closed conversation with 409 conversation_closed while reads keep working', async () => {
    const { token, id } = await setup();
    await appendTurns(t, token, id, ['one', 'two']);
    const closed = await t.request({ method: 'POST', url: `/v1/conversations/${id}/close`, token });
    expect(closed.statusCode).toBe(200);
    expect(closed.json()).toMatchObject({ id, status: 'closed', turn: 2, closedAt: expect.any(String) });

    expectProblem(await appendTurn(t, token, id, { content: 'three', expectedTurn: 2 }), 409, 'conversation_closed');
    const got = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ status: 'closed', turn: 2 });
    expect((await readAllTurns(t, token, id)).map((turn) => turn.content)).toEqual(['one', 'two']);
  });

  it('lets exactly one of 100 concurrent appends naming expectedTurn 0 win; the 99 others get 409 with the winner as missed', async () => {
    const { token, id } = await setup();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => appendTurn(t, token, id, { content: `writer ${i}`, expectedTurn: 0 })),
    );
    const winners = results.filter((res) => res.statusCode === 201);
    const losers = results.filter((res) => res.statusCode === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(99);
    const winner = winners[0]!.json().turn as TurnBody;
    expect(winner.number).toBe(1);
    for (const loser of losers) {
      const problem = expectProblem(loser, 409, 'turn_conflict');
      expect(problem).toMatchObject({ currentTurn: 1, missed: [winner] });
    }
    expect(await readAllTurns(t, token, id)).toEqual([winner]);
  });

  it('20 clients racing 5 rounds each, retrying from currentTurn on 409, produce turns 1..100 with no gap or duplicate', async () => {
    const { token, id } = await setup();
    const CLIENTS = 20;
    const ROUNDS = 5;
    const conflicts: { expected: number; currentTurn: number; missed: TurnBody[] }[] = [];
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        let expected = 0;
        for (let round = 0; round < ROUNDS; round++) {
          for (let attempt = 0; ; attempt++) {
            expect(attempt, 'a client starves').toBeLessThan(CLIENTS * ROUNDS);
            const res = await appendTurn(t, token, id, { content: `c${client} r${round}`, expectedTurn: expected });
            if (res.statusCode === 201) {
              expect(res.json().turn.number).toBe(expected + 1);
              expected = res.json().turn.number;
              break;
            }
            const problem = expectProblem(res, 409, 'turn_conflict');
            conflicts.push({
              expected,
              currentTurn: problem['currentTurn'] as number,
              missed: problem['missed'] as TurnBody[],
            });
            expected = problem['currentTurn'] as number;
          }
        }
      }),
    );

    const turns = await readAllTurns(t, token, id);
    const total = CLIENTS * ROUNDS;
    expect(turns.map((turn) => turn.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const contents = turns.map((turn) => turn.content);
    expect(new Set(contents).size).toBe(total);
    for (let client = 0; client < CLIENTS; client++) {
      const own = contents.filter((content) => content.startsWith(`c${client} `));
      expect(own).toEqual(Array.from({ length: ROUNDS }, (_, round) => `c${client} r${round}`));
    }
    expect(conflicts.length).toBeGreaterThan(0);
    for (const conflict of conflicts) {
      expect(conflict.missed).toEqual(turns.slice(conflict.expected, conflict.currentTurn));
    }
  });
});

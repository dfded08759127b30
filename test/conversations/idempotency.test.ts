import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { appendTurn, appendTurns, createConversation, expectProblem, readAllTurns } from '../http/fixtures.ts';

describe('Idempotency-Key on append (ADR-003)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function setup() {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const id = await createConversation(t, token);
    return { token, id };
  }

  it('writes a retried append once and answers the retry with the original 201 body and idempotent-replayed: true', async () => {
    const { token, id } = await setup();
    const key = { 'idempotency-key': 'append-7f3a' };
    const first = await appendTurn(t, token, id, { content: 'I take 5 mg amlodipine', expectedTurn: 0 }, key);
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    t.clock.advance(5000);
    const retry = await appendTurn(t, token, id, { content: 'I take 5 mg amlodipine', expectedTurn: 0 }, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());

    const turns = await readAllTurns(t, token, id);
    expect(turns).toHaveLength(1);
    expect(turns[0]).toEqual(first.json().turn);
  });

  it('replays the original result even when the retry comes after other turns were appended', async () => {
    const { token, id } = await setup();
    const key = { 'idempotency-key': 'slow-network-1' };
    const first = await appendTurn(t, token, id, { content: 'first message', expectedTurn: 0 }, key);
    expect(first.statusCode).toBe(201);
    await appendTurns(t, token, id, ['second', 'third'], 1);

    const retry = await appendTurn(t, token, id, { content: 'first message', expectedTurn: 0 }, key);
    expect(retry.statusCode, 'not a 409: the key names a request that already succeeded').toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toEqual(first.json());

    const turns = await readAllTurns(t, token, id);
    expect(turns.map((turn) => turn.content)).toEqual(['first message', 'second', 'third']);
  });

  it('refuses the same key with a different body with 422 idempotency_key_reused and writes nothing', async () => {
    const { token, id } = await setup();
    const key = { 'idempotency-key': 'k-1' };
    expect((await appendTurn(t, token, id, { content: 'original', expectedTurn: 0 }, key)).statusCode).toBe(201);

    const variants = [
      { content: 'changed', expectedTurn: 0 },
      { role: 'clinician', content: 'original', expectedTurn: 0 },
      { content: 'original', expectedTurn: 1 },
    ];
    for (const body of variants) {
      expectProblem(await appendTurn(t, token, id, body, key), 422, 'idempotency_key_reused');
    }
    const turns = await readAllTurns(t, token, id);
    expect(turns.map((turn) => turn.content)).toEqual(['original']);
  });

  it('lets different conversations use the same key independently', async () => {
    const { token, id: a } = await setup();
    const b = await createConversation(t, token);
    const key = { 'idempotency-key': 'shared-key' };
    const inA = await appendTurn(t, token, a, { content: 'in A', expectedTurn: 0 }, key);
    const inB = await appendTurn(t, token, b, { content: 'in B', expectedTurn: 0 }, key);
    expect(inA.statusCode).toBe(201);
    expect(inB.statusCode).toBe(201);
    expect(inB.headers['idempotent-replayed']).toBeUndefined();
    expect((await readAllTurns(t, token, a)).map((turn) => turn.content)).toEqual(['in A']);
    expect((await readAllTurns(t, token, b)).map((turn) => turn.content)).toEqual(['in B']);
  });

  it('without a key, the same append sent twice is a conflict, not a silent duplicate', async () => {
    const { token, id } = await setup();
    expect((await appendTurn(t, token, id, { content: 'once', expectedTurn: 0 })).statusCode).toBe(201);
    expectProblem(await appendTurn(t, token, id, { content: 'once', expectedTurn: 0 }), 409, 'turn_conflict');
    expect(await readAllTurns(t, token, id)).toHaveLength(1);
  });
});

import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../src/models/local-provider.ts';
import type { ModelProvider } from '../../src/models/port.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

/**
 * ADR-005: with `respond: true` the model is called while the user turn is
 * being stored, so the model's latency overlaps the append. The early call
 * answers only the turn stored right after `expectedTurn`; anything else
 * (a conflict, a refused or replayed append) aborts it and frees its slot.
 */

interface Call {
  /** The newest stored turn of the conversation when the model was called. */
  storedTurn: number;
  /** The text of the last message of the prompt. */
  last: string;
  signal: AbortSignal;
}

/** The local provider, noting for each call how far the conversation was stored at that moment. */
function storeWatchingModel(t: () => TestApp, conversation: () => string) {
  const inner = createLocalProvider({ wordDelayMs: 0 });
  const calls: Call[] = [];
  const provider: ModelProvider = {
    kind: 'local',
    probe: (signal) => inner.probe(signal),
    generate(request) {
      const db = new Database(t().dbFile, { readonly: true });
      const row = db
        .prepare('SELECT coalesce(max(number), 0) AS n FROM turns WHERE conversation_id = ?')
        .get(conversation()) as { n: number };
      db.close();
      calls.push({ storedTurn: row.n, last: request.messages.at(-1)?.content ?? '', signal: request.signal });
      return inner.generate(request);
    },
  };
  return { provider, calls };
}

describe('a reply begun before its user turn is stored', () => {
  let t: TestApp | undefined;
  afterEach(async () => t?.close());

  async function setUp(config: Parameters<typeof buildTestApp>[0] = {}) {
    let id = '';
    const model = storeWatchingModel(
      () => t!,
      () => id,
    );
    t = await buildTestApp({ ...config, model: model.provider, config: { localWordDelayMs: 0, ...config.config } });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
    const append = (content: string, expectedTurn: number, extra: Record<string, unknown> = {}, headers = {}) =>
      t!.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        headers,
        body: { role: 'user', content, expectedTurn, ...extra },
      });
    const turns = async () =>
      (await t!.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token })).json().items as {
        number: number;
        role: string;
        content: string;
      }[];
    return { model, append, turns };
  }

  it('asks the model while the turn is stored, with the new message last in the prompt, and stores both', async () => {
    const { model, append, turns } = await setUp();
    expect((await append('I take metformin 500 mg twice a day.', 0)).statusCode).toBe(201);
    const res = await append('What dose of metformin do I take?', 1, { respond: true });
    expect(res.statusCode, res.body).toBe(201);
    expect(model.calls).toHaveLength(1);
    // Turn 2 was not stored yet when the model was called: its text reached the prompt as the next message.
    expect(model.calls[0]).toMatchObject({ storedTurn: 1, last: 'What dose of metformin do I take?' });
    expect(model.calls[0]!.signal.aborted).toBe(false);
    expect(res.json().reply).toMatchObject({ number: 3, role: 'assistant' });
    expect((await turns()).map((turn) => [turn.number, turn.role])).toEqual([
      [1, 'user'],
      [2, 'user'],
      [3, 'assistant'],
    ]);
  });

  it('does not call the model for an append that names a stale turn (409)', async () => {
    const { model, append, turns } = await setUp();
    expect((await append('first', 0)).statusCode).toBe(201);
    const stale = await append('I have a headache.', 0, { respond: true });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('turn_conflict');
    expect(model.calls).toEqual([]);
    expect(await turns()).toHaveLength(1);
  });

  it('aborts the early call and frees its stream slot when the append is refused', async () => {
    // One stream per tenant and no queueing: a slot the refused request kept would turn the next reply away.
    const { model, append, turns } = await setUp({ config: { maxStreamsPerTenant: 1, streamMaxWait: 0 } });
    expect((await append('first', 0, {}, { 'idempotency-key': 'key-1' })).statusCode).toBe(201);
    // The same key for a different request at the right turn: the early start goes ahead, the append is refused.
    const reused = await append('something else entirely', 1, { respond: true }, { 'idempotency-key': 'key-1' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]!.signal.aborted).toBe(true);
    const next = await append('How are my results?', 1, { respond: true });
    expect(next.statusCode, next.body).toBe(201);
    expect(next.json().reply).toMatchObject({ number: 3, role: 'assistant' });
    expect((await turns()).map((turn) => turn.content.slice(0, 5))).toEqual([
      'first',
      'How a',
      next.json().reply.content.slice(0, 5),
    ]);
  });

  it('a replayed request answers with the stored reply, aborts its early call and generates nothing twice', async () => {
    const { model, append, turns } = await setUp({ config: { maxStreamsPerTenant: 1, streamMaxWait: 0 } });
    const headers = { 'idempotency-key': 'visit-7' };
    const first = await append('Is ibuprofen safe with my lisinopril?', 0, { respond: true }, headers);
    expect(first.statusCode, first.body).toBe(201);
    // The client missed the answer and sends the same request again, naming the turn it knew.
    const again = await append('Is ibuprofen safe with my lisinopril?', 0, { respond: true }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().reply).toEqual(first.json().reply);
    // The replay named turn 0 while the conversation is at 2: no early call was even begun.
    expect(model.calls).toHaveLength(1);
    expect(await turns()).toHaveLength(2);
    const next = await append('Thanks.', 2, { respond: true });
    expect(next.statusCode, next.body).toBe(201);
  });
});

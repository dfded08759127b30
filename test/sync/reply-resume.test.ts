import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { SyncClient } from './sync-client.ts';

describe('sync: a streamed reply over the socket', () => {
  let t: TestApp;
  const clients: SyncClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await t?.close();
  });

  it('a client that drops mid-reply and resubscribes after its last id ends with exactly the sequence of one that never dropped', async () => {
    // Every model delta is its own event, 25 ms apart: the reply lasts long enough to drop in the middle.
    t = await buildTestApp({ config: { localWordDelayMs: 25, sseFlushMs: 0 } });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id as string;
    const follow = async (after: string | null = null) => {
      const client = await SyncClient.follow(base, id, token, { after });
      clients.push(client);
      return client;
    };
    const steady = await follow();
    const dropping = await follow();

    steady.send({
      type: 'append',
      role: 'user',
      content: 'I take metformin 500 mg twice a day and lisinopril 10 mg in the morning. Is that right?',
      expectedTurn: 0,
      respond: true,
    });
    expect(await steady.next((frame) => frame.type === 'ack')).toMatchObject({ turn: { number: 1 } });
    await dropping.next(() => dropping.storedEvents().filter((e) => e.event === 'delta').length >= 5);
    dropping.socket.terminate(); // the network goes away mid-reply
    const lastId = dropping.lastEventId();
    const resumed = await follow(lastId);

    const done = (client: SyncClient) => client.next((frame) => frame.event === 'done', { timeoutMs: 30_000 });
    const [steadyDone] = await Promise.all([done(steady), done(resumed)]);
    const whole = steady.storedEvents();
    expect([...dropping.storedEvents(), ...resumed.storedEvents()]).toEqual(whole);

    // The sequence itself: the user turn, the deltas, the stored reply, done; ids strictly increasing.
    const names = whole.map((event) => event.event);
    expect(names[0]).toBe('turn');
    expect(names.at(-2)).toBe('turn');
    expect(names.at(-1)).toBe('done');
    expect(names.filter((name) => name === 'delta').length).toBeGreaterThan(5);
    const ids = whole.map((event) => event.id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const reply = steadyDone.data as { number: number; role: string; content: string };
    expect(reply).toMatchObject({ number: 2, role: 'assistant' });
    const streamed = whole
      .filter((event) => event.event === 'delta')
      .map((event) => (event.data as { text: string }).text)
      .join('');
    expect(streamed).toBe(reply.content);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/test-app.ts';
import { call, twoNodes } from './in-process-nodes.ts';
import { SyncClient } from './sync-client.ts';

describe('sync across two nodes (in-process bus, one SQLite file)', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('racing appends from clients on both nodes resolve to one order that both clients see identically', async () => {
    const { nodes, remove } = await twoNodes();
    const clients: SyncClient[] = [];
    cleanup = async () => {
      for (const client of clients) client.socket.terminate();
      for (const node of nodes) await node.close();
      remove();
    };
    const [a, b] = nodes;
    const tenant = await call(a.base, 'POST', '/v1/admin/tenants', ADMIN_TOKEN, { name: 'two-nodes' });
    const grant = { grant_type: 'api_key', api_key: tenant.body['apiKey'], subject: 'patient-1' };
    const token = (await call(a.base, 'POST', '/v1/auth/token', undefined, grant)).body['access_token'] as string;
    const id = (await call(b.base, 'POST', '/v1/conversations', token, {})).body['id'] as string;
    const onA = await SyncClient.follow(a.base, id, token);
    const onB = await SyncClient.follow(b.base, id, token);
    clients.push(onA, onB);

    const rounds = 20;
    for (let turn = 0; turn < rounds; turn++) {
      const refA = `a${turn}`;
      const refB = `b${turn}`;
      onA.send({ type: 'append', role: 'user', content: `from A at ${turn}`, expectedTurn: turn, ref: refA });
      onB.send({ type: 'append', role: 'clinician', content: `from B at ${turn}`, expectedTurn: turn, ref: refB });
      const answers = await Promise.all([
        onA.next((frame) => frame['ref'] === refA),
        onB.next((frame) => frame['ref'] === refB),
      ]);
      expect(answers.map((frame) => frame.type).sort(), `round ${turn}`).toEqual(['ack', 'error']);
      expect(answers.find((frame) => frame.type === 'error')).toMatchObject({ code: 'turn_conflict' });
    }
    const last = (client: SyncClient) => client.next((frame) => (frame.data as { number?: number })?.number === rounds);
    await Promise.all([last(onA), last(onB)]);
    const expected = Array.from({ length: rounds }, (_, n) => n + 1);
    expect(onA.turnNumbers()).toEqual(expected);
    expect(onB.turnNumbers()).toEqual(expected);
    expect(onB.storedEvents()).toEqual(onA.storedEvents());
    const stored = await call(a.base, 'GET', `/v1/conversations/${id}/turns?limit=100`, token);
    const contents = (stored.body['items'] as Array<{ content: string }>).map((turn) => turn.content);
    const seen = onA.storedEvents().map((event) => (event.data as { content: string }).content);
    expect(seen).toEqual(contents);
  });

  it('presence and typing cross nodes; a client joining later learns who is already there', async () => {
    const { nodes, remove } = await twoNodes();
    const clients: SyncClient[] = [];
    cleanup = async () => {
      for (const client of clients) client.socket.terminate();
      for (const node of nodes) await node.close();
      remove();
    };
    const [a, b] = nodes;
    const tenant = await call(a.base, 'POST', '/v1/admin/tenants', ADMIN_TOKEN, { name: 'two-nodes-presence' });
    const grant = (subject: string, scope = 'conversations') => ({
      grant_type: 'api_key',
      api_key: tenant.body['apiKey'],
      subject,
      scope,
    });
    const patient = (await call(a.base, 'POST', '/v1/auth/token', undefined, grant('patient-1'))).body[
      'access_token'
    ] as string;
    const nurse = (await call(a.base, 'POST', '/v1/auth/token', undefined, grant('nurse-1', 'admin'))).body[
      'access_token'
    ] as string;
    const id = (await call(a.base, 'POST', '/v1/conversations', patient, {})).body['id'] as string;
    const onA = await SyncClient.follow(a.base, id, patient);
    clients.push(onA);
    const onB = await SyncClient.follow(b.base, id, nurse, { subscribe: false });
    clients.push(onB);
    expect(await onA.next((frame) => frame.event === 'presence')).toMatchObject({
      data: { subject: 'nurse-1', status: 'joined' },
    });
    // B asked A who is there when its room opened (at auth); by the time B subscribes, A has answered.
    onB.send({ type: 'subscribe' });
    const subscribed = await onB.next((frame) => frame.type === 'subscribed');
    expect(subscribed['present']).toEqual([{ subject: 'patient-1', connection: onA.frames[0]!['connection'] }]);
    onB.send({ type: 'typing' });
    expect(await onA.next((frame) => frame.event === 'typing')).toMatchObject({ data: { subject: 'nurse-1' } });
    onA.close();
    expect(
      await onB.next((frame) => frame.event === 'presence' && (frame.data as { status: string }).status === 'left'),
    ).toMatchObject({ data: { subject: 'patient-1' } });
  });

  it('a follower of the event log on the other node (as GET …/events has) is kept up to date by follow()', async () => {
    const { nodes, remove } = await twoNodes();
    cleanup = async () => {
      for (const node of nodes) await node.close();
      remove();
    };
    const [a, b] = nodes;
    const tenant = await call(a.base, 'POST', '/v1/admin/tenants', ADMIN_TOKEN, { name: 'two-nodes-follow' });
    const grant = { grant_type: 'api_key', api_key: tenant.body['apiKey'], subject: 'patient-1' };
    const token = (await call(a.base, 'POST', '/v1/auth/token', undefined, grant)).body['access_token'] as string;
    const id = (await call(a.base, 'POST', '/v1/conversations', token, {})).body['id'] as string;
    const tenantId = tenant.body['tenantId'] as never;
    const unfollow = b.services.sync.follow(tenantId, id as never);
    const follower = b.services.events.subscribe(tenantId, id as never, null);
    const first = follower.next();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the follower has read the (empty) store and waits live
    const appended = await call(a.base, 'POST', `/v1/conversations/${id}/turns`, token, {
      role: 'user',
      content: 'Stored on node A',
      expectedTurn: 0,
    });
    expect(appended.status).toBe(201);
    const event = await first;
    expect(event.done).toBe(false);
    expect(JSON.parse(event.value!.data)).toMatchObject({ number: 1, content: 'Stored on node A' });
    follower.close();
    unfollow();
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SYNC_SUBPROTOCOL } from '../../src/sync/protocol.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { SyncClient } from './sync-client.ts';

interface Fixture {
  t: TestApp;
  base: string;
  apiKey: string;
  tenantId: string;
  token: string;
  id: string;
}

async function fixture(config: Parameters<typeof buildTestApp>[0] = {}): Promise<Fixture> {
  const t = await buildTestApp(config);
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { tenantId, apiKey } = await t.createTenant();
  const token = (await t.token(apiKey, 'patient-1')).access_token;
  const created = await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} });
  return { t, base, apiKey, tenantId, token, id: created.json().id };
}

const appendHttp = (f: Fixture, content: string, expectedTurn: number, token = f.token) =>
  f.t.request({
    method: 'POST',
    url: `/v1/conversations/${f.id}/turns`,
    token,
    body: { role: 'user', content, expectedTurn },
  });

describe('sync over a WebSocket (one node)', () => {
  let f: Fixture;
  const clients: SyncClient[] = [];
  const follow = async (...args: Parameters<typeof SyncClient.follow>) => {
    const client = await SyncClient.follow(...args);
    clients.push(client);
    return client;
  };
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await f.t.close();
  });

  it('authenticates with the first frame, then pushes turns appended over HTTP and over the socket to every client', async () => {
    const raw = await SyncClient.open(f.base, f.id, [SYNC_SUBPROTOCOL]);
    clients.push(raw);
    expect(raw.socket.protocol).toBe(SYNC_SUBPROTOCOL);
    raw.send({ type: 'auth', token: f.token });
    const ready = await raw.next((frame) => frame.type === 'ready');
    expect(ready).toMatchObject({ conversationId: f.id, turn: 0, status: 'open', subject: 'patient-1', protocol: 1 });
    expect(Date.parse(ready['expiresAt'] as string)).toBe(f.t.clock.now() + 1800 * 1000);
    raw.send({ type: 'subscribe', after: null });
    await raw.next((frame) => frame.type === 'subscribed');
    const other = await follow(f.base, f.id, f.token);

    expect((await appendHttp(f, 'I take metformin 500 mg.', 0)).statusCode).toBe(201);
    raw.send({ type: 'append', role: 'user', content: 'Twice a day.', expectedTurn: 1, ref: 'a2' });
    const ack = await raw.next((frame) => frame.type === 'ack');
    expect(ack).toMatchObject({
      ref: 'a2',
      currentTurn: 2,
      replayed: false,
      turn: { number: 2, content: 'Twice a day.' },
    });

    for (const client of [raw, other]) {
      await client.next((frame) => frame.type === 'event' && (frame.data as { number?: number }).number === 2);
      expect(client.turnNumbers()).toEqual([1, 2]);
      expect(client.storedEvents()[0]?.data).toMatchObject({ content: 'I take metformin 500 mg.', role: 'user' });
    }
    expect(other.storedEvents()).toEqual(raw.storedEvents());
  });

  it('answers a stale expectedTurn with turn_conflict, currentTurn and the missed turns; the socket stays open', async () => {
    const client = await follow(f.base, f.id, f.token);
    await appendHttp(f, 'first', 0);
    client.send({ type: 'append', role: 'user', content: 'late', expectedTurn: 0, ref: 'x' });
    const error = await client.next((frame) => frame.type === 'error');
    expect(error).toMatchObject({ code: 'turn_conflict', status: 409, currentTurn: 1, ref: 'x' });
    expect(error['missed']).toMatchObject([{ number: 1, content: 'first' }]);
    client.send({ type: 'append', role: 'user', content: 'on time', expectedTurn: 1, idempotencyKey: 'k-1' });
    await client.next((frame) => frame.type === 'ack');
    // A retry with the same idempotency key returns the original turn, nothing written twice.
    client.send({ type: 'append', role: 'user', content: 'on time', expectedTurn: 1, idempotencyKey: 'k-1' });
    const replay = await client.next((frame) => frame.type === 'ack' && frame['replayed'] === true);
    expect(replay['turn']).toMatchObject({ number: 2 });
    const turns = await f.t.request({ method: 'GET', url: `/v1/conversations/${f.id}/turns`, token: f.token });
    expect(turns.json().items.map((turn: { content: string }) => turn.content)).toEqual(['first', 'on time']);
  });

  it('resumes after an event id with nothing missed and nothing doubled', async () => {
    for (let n = 0; n < 5; n++) await appendHttp(f, `turn ${n + 1}`, n);
    const first = await follow(f.base, f.id, f.token);
    await first.next((frame) => (frame.data as { number?: number })?.number === 5);
    const all = first.storedEvents();
    const resumeAfter = all[2]!.id;
    const resumed = await follow(f.base, f.id, f.token, { after: resumeAfter });
    await appendHttp(f, 'turn 6', 5);
    for (const client of [first, resumed]) {
      await client.next((frame) => (frame.data as { number?: number })?.number === 6);
    }
    expect(first.turnNumbers()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resumed.storedEvents()).toEqual(first.storedEvents().slice(3));
  });

  it('writes one turn.read audit event per subscription, like GET …/events', async () => {
    const before = await f.t.services.store.listAuditEvents(f.tenantId as never, { afterSeq: 0, limit: 1000 });
    const client = await follow(f.base, f.id, f.token);
    client.close();
    await client.closed;
    const after = await f.t.services.store.listAuditEvents(f.tenantId as never, { afterSeq: 0, limit: 1000 });
    const added = after.slice(before.length);
    expect(added.map((event) => [event.action, event.outcome, event.detail])).toEqual([
      ['turn.read', 'success', { stream: true, after: '', transport: 'websocket' }],
    ]);
  });

  it('refuses a first frame that is not auth, a bad token and a missing conversation with their close codes', async () => {
    const early = await SyncClient.open(f.base, f.id);
    clients.push(early);
    early.send({ type: 'subscribe' });
    expect((await early.closed).code).toBe(4001);

    const forged = await SyncClient.open(f.base, f.id);
    clients.push(forged);
    forged.send({ type: 'auth', token: `${f.token.slice(0, -4)}AAAA` });
    expect(await forged.next((frame) => frame.type === 'error')).toMatchObject({ code: 'token_invalid' });
    expect((await forged.closed).code).toBe(4001);

    const missing = await SyncClient.open(f.base, 'cnv_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    clients.push(missing);
    missing.send({ type: 'auth', token: f.token });
    expect(await missing.next((frame) => frame.type === 'error')).toMatchObject({ code: 'not_found' });
    expect((await missing.closed).code).toBe(4004);
  });

  it('a subject of the same tenant that is not a participant gets not_found and 4004; an admin token gets in', async () => {
    const stranger = (await f.t.token(f.apiKey, 'patient-2')).access_token;
    const client = await SyncClient.open(f.base, f.id);
    clients.push(client);
    client.send({ type: 'auth', token: stranger });
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({ code: 'not_found', status: 404 });
    expect(await client.closed).toEqual({ code: 4004, reason: 'conversation not found' });
    const denied = await f.t.services.store.listAuditEvents(f.tenantId as never, { afterSeq: 0, limit: 1000 });
    expect(denied.at(-1)).toMatchObject({ action: 'turn.read', outcome: 'denied' });

    const admin = (await f.t.token(f.apiKey, 'auditor-1', 'admin')).access_token;
    const adminClient = await follow(f.base, f.id, admin);
    expect(adminClient.frames[0]).toMatchObject({ type: 'ready', subject: 'auditor-1' });
  });

  it('answers malformed frames with invalid_request and keeps the connection', async () => {
    const client = await follow(f.base, f.id, f.token);
    client.send('{not json');
    client.send({ type: 'append', role: 'user', content: '', expectedTurn: 0, ref: 'empty' });
    client.send({ type: 'subscribe', after: null });
    const errors = [
      await client.next((frame) => frame.type === 'error'),
      await client.next((frame) => frame.type === 'error' && frame['ref'] === 'empty'),
      await client.next((frame) => frame.type === 'error' && /Already subscribed/.test(String(frame['detail']))),
    ];
    expect(errors.map((error) => error.code)).toEqual(['invalid_request', 'invalid_request', 'invalid_request']);
    client.send({ type: 'append', role: 'user', content: 'still here', expectedTurn: 0 });
    expect(await client.next((frame) => frame.type === 'ack')).toMatchObject({ currentTurn: 1 });
  });

  it('closes a frame over the body limit with 1009', async () => {
    const g = await fixture({ config: { bodyLimit: 4096 } });
    try {
      const client = await SyncClient.follow(g.base, g.id, g.token);
      clients.push(client);
      client.send({ type: 'append', role: 'user', content: 'x'.repeat(5000), expectedTurn: 0 });
      expect((await client.closed).code).toBe(1009);
    } finally {
      await g.t.close();
    }
  });

  it('fans presence and typing out to the other connections, never back to the sender', async () => {
    const patient = await follow(f.base, f.id, f.token);
    const admin = (await f.t.token(f.apiKey, 'nurse-1', 'admin')).access_token;
    const nurse = await SyncClient.open(f.base, f.id);
    clients.push(nurse);
    nurse.send({ type: 'auth', token: admin });
    const nurseReady = await nurse.next((frame) => frame.type === 'ready');
    const joined = await patient.next((frame) => frame.event === 'presence');
    expect(joined).toMatchObject({
      id: null,
      data: { subject: 'nurse-1', status: 'joined', connection: nurseReady['connection'] },
    });
    nurse.send({ type: 'subscribe' });
    const subscribed = await nurse.next((frame) => frame.type === 'subscribed');
    expect(subscribed['present']).toEqual([{ subject: 'patient-1', connection: patient.frames[0]!['connection'] }]);

    nurse.send({ type: 'typing' });
    nurse.send({ type: 'typing' }); // within a second: dropped
    expect(await patient.next((frame) => frame.event === 'typing')).toMatchObject({
      id: null,
      data: { subject: 'nurse-1', connection: nurseReady['connection'] },
    });
    f.t.clock.advance(1000);
    nurse.send({ type: 'typing' });
    await patient.next((frame) => frame.event === 'typing', { from: patient.frames.indexOf(joined) + 2 });
    expect(patient.frames.filter((frame) => frame.event === 'typing')).toHaveLength(2);
    expect(nurse.frames.filter((frame) => frame.event === 'typing')).toHaveLength(0);

    nurse.close();
    expect(
      await patient.next((frame) => frame.event === 'presence' && (frame.data as { status: string }).status === 'left'),
    ).toMatchObject({ data: { subject: 'nurse-1' } });
  });

  it('tells subscribers when the working context moved on and when the conversation closed', async () => {
    const client = await follow(f.base, f.id, f.token);
    await appendHttp(f, 'I am allergic to penicillin.', 0);
    expect(await client.next((frame) => frame.event === 'context')).toMatchObject({
      id: null,
      data: { throughTurn: 1 },
    });
    await f.t.request({ method: 'POST', url: `/v1/conversations/${f.id}/close`, token: f.token });
    expect(await client.next((frame) => frame.event === 'closed')).toMatchObject({ id: null, data: { turn: 1 } });
    client.send({ type: 'append', role: 'user', content: 'after close', expectedTurn: 1 });
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({ code: 'conversation_closed' });
  });

  it('closes with 4001 when the token expires without re-authentication, and not when a fresh token came first', async () => {
    const pair = await f.t.token(f.apiKey, 'patient-1');
    const staying = await follow(f.base, f.id, pair.access_token);
    const leaving = await follow(f.base, f.id, f.token);
    f.t.clock.advance(25 * 60 * 1000);
    const refreshed = await f.t.request({
      method: 'POST',
      url: '/v1/auth/token',
      body: { grant_type: 'refresh_token', refresh_token: pair.refresh_token },
    });
    staying.send({ type: 'auth', token: refreshed.json().access_token });
    const again = await staying.next((frame) => frame.type === 'ready', { from: 1 });
    expect(Date.parse(again['expiresAt'] as string)).toBe(f.t.clock.now() + 1800 * 1000);

    f.t.clock.advance(6 * 60 * 1000); // past the first tokens' expiry and the 5 s tolerance
    expect(await leaving.closed).toEqual({
      code: 4001,
      reason: 'token expired: refresh, reconnect, resubscribe with after',
    });
    expect(leaving.frames.at(-1)).toMatchObject({ type: 'error', code: 'token_expired' });
    await appendHttp(f, 'still followed', 0, refreshed.json().access_token);
    await staying.next((frame) => frame.event === 'turn');
    expect(staying.socket.readyState).toBe(staying.socket.OPEN);
  });

  it('refuses a re-authentication as another subject and keeps the current one', async () => {
    const client = await follow(f.base, f.id, f.token);
    const other = (await f.t.token(f.apiKey, 'patient-2')).access_token;
    client.send({ type: 'auth', token: other, ref: 'swap' });
    expect(await client.next((frame) => frame.type === 'error')).toMatchObject({
      code: 'invalid_request',
      ref: 'swap',
    });
    await appendHttp(f, 'still here', 0);
    await client.next((frame) => frame.event === 'turn');
  });

  it('closes every connection with 1012 when the app closes', async () => {
    const client = await follow(f.base, f.id, f.token);
    expect(f.t.services.sync.size).toBe(1);
    const metrics = await f.t.request({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^continuum_websocket_connections 1$/m);
    const closing = f.t.app.close();
    expect((await client.closed).code).toBe(1012);
    await closing;
    expect(f.t.services.sync.size).toBe(0);
  });
});

describe('sync: the first frame must come in time', () => {
  it('closes a connection that sends no auth frame within 10 s with 4001', { timeout: 20_000 }, async () => {
    const f = await fixture();
    try {
      const client = await SyncClient.open(f.base, f.id);
      const started = Date.now();
      expect(await client.closed).toEqual({ code: 4001, reason: 'no auth frame in time' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(9_500);
    } finally {
      await f.t.close();
    }
  });
});

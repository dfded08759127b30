import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { SyncClient } from './sync-client.ts';

describe('collaborative conversations', () => {
  let t: TestApp;
  let base: string;
  let apiKey: string;
  let tenantId: string;
  let owner: string;
  let clinician: string;
  let id: string;
  const clients: SyncClient[] = [];

  beforeEach(async () => {
    t = await buildTestApp();
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    ({ tenantId, apiKey } = await t.createTenant());
    owner = (await t.token(apiKey, 'patient-1')).access_token;
    clinician = (await t.token(apiKey, 'clinician-1')).access_token;
    id = (await t.request({ method: 'POST', url: '/v1/conversations', token: owner, body: {} })).json().id;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.terminate();
    await t.close();
  });

  const participants = `/v1/conversations/${'{id}'}/participants`;
  const url = (suffix = '') => participants.replace('{id}', id) + suffix;
  const invite = (subject: string, token = owner) =>
    t.request({ method: 'POST', url: url(), token, body: { subject } });
  const append = (token: string, content: string, expectedTurn: number) =>
    t.request({
      method: 'POST',
      url: `/v1/conversations/${id}/turns`,
      token,
      body: { role: 'clinician', content, expectedTurn },
    });

  it('the owner invites a subject, who then reads and appends over HTTP in the same strict turn order', async () => {
    expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token: clinician })).statusCode).toBe(404);
    const added = await invite('clinician-1');
    expect(added.statusCode).toBe(201);
    expect(added.json()).toEqual({ subject: 'clinician-1', addedBy: 'patient-1', addedAt: expect.any(String) });
    const again = await invite('clinician-1');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(added.json());

    expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token: clinician })).statusCode).toBe(200);
    expect((await append(clinician, 'Any allergies?', 0)).statusCode).toBe(201);
    const stale = await append(owner, 'I forgot to say', 0);
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({
      code: 'turn_conflict',
      currentTurn: 1,
      missed: [{ content: 'Any allergies?' }],
    });
    expect((await append(owner, 'Penicillin.', 1)).statusCode).toBe(201);

    const list = await t.request({ method: 'GET', url: url(), token: clinician });
    expect(list.json()).toEqual({ conversationId: id, owner: 'patient-1', items: [added.json()] });
    const audit = await t.services.store.listAuditEvents(tenantId as never, { afterSeq: 0, limit: 1000 });
    expect(audit.filter((e) => e.action === 'participant.add').map((e) => e.detail)).toEqual([
      { participant: 'clinician-1' },
      { participant: 'clinician-1', alreadyParticipant: true },
    ]);
  });

  it('only the owner or an admin token invites and removes; refusals are audited', async () => {
    await invite('clinician-1');
    const refused = await invite('clinician-2', clinician);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('insufficient_scope');
    const audit = await t.services.store.listAuditEvents(tenantId as never, { afterSeq: 0, limit: 1000 });
    expect(audit.at(-1)).toMatchObject({ action: 'participant.add', outcome: 'denied' });

    const admin = (await t.token(apiKey, 'ward-admin', 'admin')).access_token;
    const byAdmin = await invite('nurse-1', admin);
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.json().addedBy).toBe('admin:ward-admin');
    expect((await invite('patient-1')).json()).toMatchObject({ code: 'invalid_request' });
    const stranger = (await t.token(apiKey, 'patient-2')).access_token;
    expect((await t.request({ method: 'GET', url: url(), token: stranger })).statusCode).toBe(404);
    expect((await t.request({ method: 'DELETE', url: url('/nurse-1'), token: clinician })).json().code).toBe(
      'insufficient_scope',
    );
    expect((await t.request({ method: 'DELETE', url: url('/nurse-1'), token: admin })).statusCode).toBe(204);
    expect((await t.request({ method: 'DELETE', url: url('/nurse-1'), token: admin })).statusCode).toBe(404);
  });

  it('a participant syncs over the socket; removing it closes its socket with 4004 and ends its HTTP access', async () => {
    await invite('clinician-1');
    const participant = await SyncClient.follow(base, id, clinician);
    const ownerSocket = await SyncClient.follow(base, id, owner);
    clients.push(participant, ownerSocket);
    participant.send({ type: 'append', role: 'clinician', content: 'Hello from the clinic.', expectedTurn: 0 });
    await ownerSocket.next((frame) => frame.event === 'turn');
    expect(ownerSocket.storedEvents()[0]?.data).toMatchObject({ role: 'clinician', content: 'Hello from the clinic.' });

    expect((await t.request({ method: 'DELETE', url: url('/clinician-1'), token: owner })).statusCode).toBe(204);
    expect(await participant.closed).toEqual({ code: 4004, reason: 'no longer a participant of this conversation' });
    expect((await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token: clinician })).statusCode).toBe(404);
    expect(ownerSocket.socket.readyState).toBe(ownerSocket.socket.OPEN);
    const audit = await t.services.store.listAuditEvents(tenantId as never, { afterSeq: 0, limit: 1000 });
    expect(audit.find((e) => e.action === 'participant.remove')).toMatchObject({
      outcome: 'success',
      resource: { type: 'conversation', id },
      detail: { participant: 'clinician-1' },
    });
  });

  it('a participant may leave on its own', async () => {
    await invite('clinician-1');
    expect((await t.request({ method: 'DELETE', url: url('/clinician-1'), token: clinician })).statusCode).toBe(204);
    expect((await t.request({ method: 'GET', url: url(), token: owner })).json().items).toEqual([]);
  });
});

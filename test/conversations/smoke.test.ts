import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

describe('conversation basics', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('creates a conversation, appends turns in order and reads them back', async () => {
    t = await buildTestApp();
    const { apiKey } = await t.createTenant();
    const { access_token: token } = await t.token(apiKey, 'patient-1');
    const created = await t.request({ method: 'POST', url: '/v1/conversations', token, body: { title: 'intake' } });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    for (let n = 0; n < 3; n++) {
      const res = await t.request({
        method: 'POST',
        url: `/v1/conversations/${id}/turns`,
        token,
        body: { role: 'user', content: `message ${n + 1}`, expectedTurn: n },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().turn.number).toBe(n + 1);
    }
    const turns = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns?after=1`, token });
    expect(turns.json().items.map((turn: { content: string }) => turn.content)).toEqual(['message 2', 'message 3']);
    const got = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token });
    expect(got.headers.etag).toBe('"3"');
    expect(got.json()).toMatchObject({ id, title: 'intake', turn: 3, status: 'open' });
  });
});

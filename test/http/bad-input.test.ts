import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { createConversation, expectProblem } from './fixtures.ts';

const MAX_TURN_CHARS = 100;
const BODY_LIMIT = 4096;

let t: TestApp;
let token: string;
let id: string;

/** One app with one empty conversation; every case below must leave it exactly so. */
async function setup() {
  t = await buildTestApp({ config: { maxTurnChars: MAX_TURN_CHARS, bodyLimit: BODY_LIMIT } });
  const { apiKey } = await t.createTenant();
  token = (await t.token(apiKey, 'patient-1')).access_token;
  id = await createConversation(t, token, { title: 'the only one' });
}

const postTurn = (payload: string, contentType = 'application/json') =>
  t.request({
    method: 'POST',
    url: `/v1/conversations/${id}/turns`,
    token,
    body: payload,
    headers: { 'content-type': contentType },
  });

const valid = { role: 'user', content: 'hello', expectedTurn: 0 };

describe('bad input → 4xx problem+json and nothing written (ADR-009)', () => {
  beforeAll(setup);
  afterAll(async () => t?.close());

  /** The conversation still has no turns and the list still has one conversation. */
  async function expectNothingWritten() {
    const turns = await t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token });
    expect(turns.json().items).toEqual([]);
    const got = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token });
    expect(got.json()).toMatchObject({ turn: 0, title: 'the only one', metadata: null });
    const list = await t.request({ method: 'GET', url: '/v1/conversations', token });
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([id]);
  }

  const appendCases: [string, unknown][] = [
    ['malformed JSON', '{"role":"user","content":"hel'],
    ['an empty JSON body', ''],
    ['a JSON array', [valid]],
    ['expectedTurn as a string "0" (no coercion)', { ...valid, expectedTurn: '0' }],
    ['expectedTurn as a fraction', { ...valid, expectedTurn: 0.5 }],
    ['a negative expectedTurn', { ...valid, expectedTurn: -1 }],
    ['expectedTurn null', { ...valid, expectedTurn: null }],
    ['content as a number', { ...valid, content: 42 }],
    ['an empty content', { ...valid, content: '' }],
    ['an unknown role', { ...valid, role: 'doctor' }],
    ['respond as the string "true"', { ...valid, respond: 'true' }],
    ['an unknown field (refused, not stripped)', { ...valid, patientName: 'Jane Doe' }],
    ['content one character over CONTINUUM_MAX_TURN_CHARS', { ...valid, content: 'x'.repeat(MAX_TURN_CHARS + 1) }],
  ];

  it.each(appendCases)('refuses an append with %s → 400 invalid_request', async (_name, body) => {
    const res = await postTurn(typeof body === 'string' ? body : JSON.stringify(body));
    const problem = expectProblem(res, 400, 'invalid_request');
    expect(res.body).not.toContain('Jane Doe');
    expect(problem.title).toBeTruthy();
    await expectNothingWritten();
  });

  it('refuses a body over CONTINUUM_BODY_LIMIT with 413 payload_too_large', async () => {
    const res = await postTurn(JSON.stringify({ ...valid, content: 'x'.repeat(BODY_LIMIT) }));
    expectProblem(res, 413, 'payload_too_large');
    await expectNothingWritten();
  });

  it.each(['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
    'refuses a body sent as %s with 415 unsupported_media_type',
    async (contentType) => {
      expectProblem(await postTurn(JSON.stringify(valid), contentType), 415, 'unsupported_media_type');
      await expectNothingWritten();
    },
  );

  it('refuses a JSON-looking body sent as text/plain with 415 unsupported_media_type', async () => {
    expectProblem(await postTurn(JSON.stringify(valid), 'text/plain'), 415, 'unsupported_media_type');
  });

  it.each([
    ['an unknown field', { title: 'x', owner: 'someone-else' }],
    ['a title over 200 characters', { title: 't'.repeat(201) }],
    ['startedAt that is not a date-time', { startedAt: 'yesterday' }],
    ['a numeric clientKey', { clientKey: 7 }],
    ['metadata with a nested object', { metadata: { nested: { deep: true } } }],
  ])('refuses a conversation create with %s → 400 and creates nothing', async (_name, body) => {
    expectProblem(await t.request({ method: 'POST', url: '/v1/conversations', token, body }), 400, 'invalid_request');
    await expectNothingWritten();
  });

  it.each([
    ['a cursor this server did not issue', '/v1/conversations?cursor=not-a-cursor'],
    ['limit=0', '/v1/conversations?limit=0'],
    ['limit=abc', '/v1/conversations?limit=abc'],
    ['an unknown query parameter', '/v1/conversations?owner=someone'],
    ['a negative after', '/v1/conversations/{id}/turns?after=-1'],
    ['limit over 500 on turns', '/v1/conversations/{id}/turns?limit=501'],
  ])('refuses a listing with %s → 400 invalid_request', async (_name, url) => {
    expectProblem(await t.request({ method: 'GET', url: url.replace('{id}', id), token }), 400, 'invalid_request');
  });

  it('answers an unknown route with 404 problem+json', async () => {
    expectProblem(await t.request({ method: 'GET', url: '/v1/nothing-here', token }), 404, 'not_found');
    expectProblem(await t.request({ method: 'DELETE', url: `/v1/conversations/${id}`, token }), 404, 'not_found');
    await expectNothingWritten();
  });
});

describe('the valid append the cases above vary', () => {
  afterAll(async () => t?.close());

  it('accepts the valid body these cases are variations of (so each refusal is due to its one change)', async () => {
    await setup();
    expect((await postTurn(JSON.stringify(valid))).statusCode).toBe(201);
    const ok = await postTurn(JSON.stringify({ ...valid, content: 'y'.repeat(MAX_TURN_CHARS), expectedTurn: 1 }));
    expect(ok.statusCode, 'exactly CONTINUUM_MAX_TURN_CHARS is allowed').toBe(201);
  });
});

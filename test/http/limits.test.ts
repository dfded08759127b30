import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { appendTurn, createConversation, expectProblem } from './fixtures.ts';

describe('session pool: at most N active conversation sessions per tenant', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function setup() {
    t = await buildTestApp({ config: { maxSessionsPerTenant: 3, sessionIdleTtl: 60 } });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    const ids = [
      await createConversation(t, token),
      await createConversation(t, token),
      await createConversation(t, token),
    ];
    return { token, ids };
  }

  const listed = async (token: string) =>
    ((await t.request({ method: 'GET', url: '/v1/conversations', token })).json().items as unknown[]).length;

  it('refuses a 4th session with 429 session_limit and a Retry-After that is exactly when the oldest goes idle', async () => {
    const { token } = await setup();
    t.clock.advance(10_000);
    const res = await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} });
    expectProblem(res, 429, 'session_limit');
    expect(res.headers['retry-after']).toBe('50');
    expect(await listed(token), 'the refused create wrote nothing').toBe(3);

    t.clock.advance(49_000);
    expectProblem(await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} }), 429, 'session_limit');
    t.clock.advance(1000);
    expect((await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).statusCode).toBe(201);
    expect(await listed(token)).toBe(4);
  });

  it('keeps a session active while it is used, so only idle sessions make room', async () => {
    const { token, ids } = await setup();
    t.clock.advance(50_000);
    expect((await appendTurn(t, token, ids[0]!, { content: 'still here', expectedTurn: 0 })).statusCode).toBe(201);
    t.clock.advance(15_000);
    // Two sessions are idle past 60 s; the one just used is not.
    expect((await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).statusCode).toBe(201);
    expect((await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).statusCode).toBe(201);
    expectProblem(await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} }), 429, 'session_limit');
    expect((await appendTurn(t, token, ids[0]!, { content: 'and again', expectedTurn: 1 })).statusCode).toBe(201);
  });

  it('frees a slot when a conversation is closed', async () => {
    const { token, ids } = await setup();
    expectProblem(await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} }), 429, 'session_limit');
    expect((await t.request({ method: 'POST', url: `/v1/conversations/${ids[1]}/close`, token })).statusCode).toBe(200);
    expect((await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).statusCode).toBe(201);
  });

  it('counts sessions per tenant: another tenant is not limited by this one', async () => {
    await setup();
    const other = await t.createTenant();
    const token = (await t.token(other.apiKey, 'patient-1')).access_token;
    expect((await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).statusCode).toBe(201);
  });
});

describe('rate limits: token buckets per subject and per tenant', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  const hit = (token: string) => t.request({ method: 'GET', url: '/v1/conversations', token });

  /** Send `n` requests; returns their status codes. */
  async function burst(token: string, n: number) {
    const codes: number[] = [];
    for (let i = 0; i < n; i++) codes.push((await hit(token)).statusCode);
    return codes;
  }

  it('lets a subject burst twice its rate (10 at 5/s), refuses the 11th with 429 rate_limited and Retry-After, and refills with time', async () => {
    t = await buildTestApp({ config: { rateLimitPerSubject: 5 } });
    const { apiKey } = await t.createTenant();
    const token = (await t.token(apiKey, 'patient-1')).access_token;
    expect(await burst(token, 10)).toEqual(Array(10).fill(200));
    const refused = await hit(token);
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after'], 'one token comes back in 0.2 s, rounded up').toBe('1');

    t.clock.advance(1000);
    expect(await burst(token, 5), 'one second refills 5').toEqual(Array(5).fill(200));
    expectProblem(await hit(token), 429, 'rate_limited');
  });

  it('limits each subject on its own: another subject of the tenant is unaffected', async () => {
    t = await buildTestApp({ config: { rateLimitPerSubject: 5 } });
    const { apiKey } = await t.createTenant();
    const busy = (await t.token(apiKey, 'patient-1')).access_token;
    const calm = (await t.token(apiKey, 'patient-2')).access_token;
    await burst(busy, 10);
    expectProblem(await hit(busy), 429, 'rate_limited');
    expect(await burst(calm, 10)).toEqual(Array(10).fill(200));
  });

  it('limits a tenant across its subjects (10 at 5/s), leaving other tenants alone', async () => {
    t = await buildTestApp({ config: { rateLimitPerTenant: 5 } });
    const clinic = await t.createTenant();
    const other = await t.createTenant();
    const subjects = await Promise.all(
      ['a', 'b', 'c'].map(async (s) => (await t.token(clinic.apiKey, s)).access_token),
    );
    expect([...(await burst(subjects[0]!, 5)), ...(await burst(subjects[1]!, 5))]).toEqual(Array(10).fill(200));
    const refused = await hit(subjects[2]!);
    expectProblem(refused, 429, 'rate_limited');
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await hit((await t.token(other.apiKey, 'a')).access_token)).statusCode).toBe(200);
    t.clock.advance(1000);
    expect((await hit(subjects[2]!)).statusCode).toBe(200);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ContinuumError, createClient, TokenManager } from '../../src/client/index.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { type ClientTestServer, startServer, tapFetch } from './support.ts';

const MINUTE = 60_000;

describe('the token manager against a real server with a fake clock', () => {
  let s: ClientTestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('an 8-hour session with a request every 20 s never sees a 401 and asks for a token every 25 minutes', async () => {
    s = await startServer();
    const tap = tapFetch();
    const client = s.client({ fetch: tap.fetch });
    const { id } = await client.conversations.create({ title: 'long day' });
    const requests = (8 * 60 * 60) / 20;
    for (let n = 1; n < requests; n += 1) {
      s.clock.advance(20_000);
      const conversation = await client.conversations.get(id);
      expect(conversation.id).toBe(id);
    }
    expect(tap.exchanges.filter((e) => e.status === 401)).toEqual([]);
    // One sign-in at 0, then a refresh at every 25 minutes (1,500 s) up to 8 h: 19 of them.
    expect(client.stats).toMatchObject({ tokenRequests: 20, signIns: 1, refreshes: 19, retriesAfter401: 0 });
    expect(client.stats.requests).toBe(requests);
    const refreshTimes = tap.exchanges.filter((e) => e.path === '/v1/auth/token').length;
    expect(refreshTimes).toBe(20);
  });

  it('refreshes at 25 minutes after receipt, not before, and the refresh point is configurable', async () => {
    s = await startServer();
    const client = s.client();
    await client.conversations.list();
    expect(client.tokens.refreshDueAt! - s.clock.now()).toBe(25 * MINUTE);
    s.clock.advance(25 * MINUTE - 1);
    await client.conversations.list();
    expect(client.stats.tokenRequests).toBe(1);
    s.clock.advance(1);
    await client.conversations.list();
    expect(client.stats.tokenRequests).toBe(2);

    const early = s.client({ refreshAt: 600 });
    await early.conversations.list();
    s.clock.advance(10 * MINUTE);
    await early.conversations.list();
    expect(early.stats).toMatchObject({ tokenRequests: 2, refreshes: 1 });
  });

  it('a token too short to leave 5 minutes (60 s) is refreshed at 50 s, not before every request', async () => {
    s = await startServer({ config: { accessTokenTtl: 60 } });
    const client = s.client();
    await client.conversations.list();
    expect(client.tokens.refreshDueAt! - s.clock.now()).toBe(50_000);
    s.clock.advance(49_000);
    await client.conversations.list();
    await client.conversations.list();
    expect(client.stats).toMatchObject({ tokenRequests: 1, signIns: 1 });
    s.clock.advance(1_000);
    await client.conversations.list();
    expect(client.stats).toMatchObject({ tokenRequests: 2, refreshes: 1, retriesAfter401: 0 });
  });

  it('50 concurrent calls at the refresh point share exactly one refresh', async () => {
    s = await startServer();
    const tap = tapFetch();
    const client = s.client({ fetch: tap.fetch });
    const { id } = await client.conversations.create();
    s.clock.advance(25 * MINUTE);
    const before = client.stats.tokenRequests;
    const results = await Promise.all(Array.from({ length: 50 }, () => client.conversations.get(id)));
    expect(results.every((c) => c.id === id)).toBe(true);
    expect(client.stats.tokenRequests - before).toBe(1);
    expect(client.stats.refreshes).toBe(1);
    // Every one of the 50 requests carried the new token.
    const tokens = new Set(tap.exchanges.filter((e) => e.method === 'GET').map((e) => e.headers['authorization']));
    expect(tokens.size).toBe(1);
    expect(tap.exchanges.filter((e) => e.status === 401)).toEqual([]);
  });

  it('50 concurrent calls answered token_expired (the device clock lags) cause one refresh and each is retried once', async () => {
    s = await startServer();
    const tap = tapFetch();
    // The device's clock stopped: the client believes its token is fresh, the server knows better.
    const deviceClock = new FakeClock(s.clock.now());
    const client = s.client({ fetch: tap.fetch, clock: deviceClock });
    const { id } = await client.conversations.create();
    s.clock.advance(31 * MINUTE);
    const results = await Promise.all(Array.from({ length: 50 }, () => client.conversations.get(id)));
    expect(results.every((c) => c.id === id)).toBe(true);
    const refused = tap.exchanges.filter((e) => e.status === 401);
    expect(refused).toHaveLength(50);
    expect(client.stats).toMatchObject({ tokenRequests: 2, refreshes: 1, retriesAfter401: 50 });
  });

  it('an append refused with token_expired is sent again with the same Idempotency-Key and written once', async () => {
    s = await startServer();
    const tap = tapFetch();
    const deviceClock = new FakeClock(s.clock.now());
    const client = s.client({ fetch: tap.fetch, clock: deviceClock });
    const { id } = await client.conversations.create();
    s.clock.advance(40 * MINUTE);
    const result = await client.turns.append(id, { role: 'user', content: 'Still here after lunch.', expectedTurn: 0 });
    expect(result.turn.number).toBe(1);
    const appends = tap.exchanges.filter((e) => e.method === 'POST' && e.path.endsWith('/turns'));
    expect(appends.map((e) => e.status)).toEqual([401, 201]);
    expect(appends[0]!.headers['idempotency-key']).toBe(result.idempotencyKey);
    expect(appends[1]!.headers['idempotency-key']).toBe(result.idempotencyKey);
    expect((await client.turns.list(id)).map((t) => t.content)).toEqual(['Still here after lunch.']);
  });

  it('rotates refresh tokens: each refresh presents the one the previous answer returned, none twice', async () => {
    s = await startServer();
    const tap = tapFetch();
    const client = s.client({ fetch: tap.fetch });
    for (let n = 0; n < 6; n += 1) {
      await client.conversations.list();
      s.clock.advance(26 * MINUTE);
    }
    const grants = tap.exchanges.filter((e) => e.path === '/v1/auth/token');
    expect(grants.map((g) => (g.body as { grant_type: string }).grant_type)).toEqual([
      'api_key',
      'refresh_token',
      'refresh_token',
      'refresh_token',
      'refresh_token',
      'refresh_token',
    ]);
    for (let n = 1; n < grants.length; n += 1) {
      expect((grants[n]!.body as { refresh_token: string }).refresh_token).toBe(
        (grants[n - 1]!.answer as { refresh_token: string }).refresh_token,
      );
      expect(grants[n]!.status).toBe(200);
    }
    const presented = grants.slice(1).map((g) => (g.body as { refresh_token: string }).refresh_token);
    expect(new Set(presented).size).toBe(presented.length);
  });

  it('after a stolen refresh token is replayed (family revoked), the next call signs in again with the API key and succeeds', async () => {
    s = await startServer();
    const tap = tapFetch();
    const rejected: ContinuumError[] = [];
    const client = s.client({ fetch: tap.fetch, onRefreshRejected: (error) => rejected.push(error) });
    const { id } = await client.conversations.create();
    s.clock.advance(26 * MINUTE);
    await client.conversations.get(id);
    // A thief replays the spent first refresh token: the server revokes the whole family.
    const spent = (tap.exchanges[0]!.answer as { refresh_token: string }).refresh_token;
    const theft = await fetch(`${s.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: spent }),
    });
    expect((await theft.json()).code).toBe('refresh_reused');

    const conversation = await client.conversations.get(id);
    expect(conversation.id).toBe(id);
    const statuses = tap.exchanges.slice(-4).map((e) => `${e.path.endsWith('token') ? 'token' : 'get'} ${e.status}`);
    // The revoked access token, one refresh refused, one sign-in, the same request again.
    expect(statuses).toEqual(['get 401', 'token 401', 'token 200', 'get 200']);
    expect(rejected.map((e) => e.code)).toEqual(['invalid_grant']);
    expect(client.stats).toMatchObject({ signIns: 2, refreshFailures: 1, retriesAfter401: 1 });
  });

  it('a client idle longer than its refresh token (12 h) signs in again without a failed request', async () => {
    s = await startServer();
    const tap = tapFetch();
    const client = s.client({ fetch: tap.fetch });
    const { id } = await client.conversations.create();
    s.clock.advance(13 * 60 * MINUTE);
    expect((await client.conversations.get(id)).id).toBe(id);
    expect(tap.exchanges.filter((e) => e.status >= 400)).toEqual([]);
    expect(client.stats).toMatchObject({ signIns: 2, refreshes: 0 });
  });

  it('a refused API key is a typed invalid_grant error, and the manager does not loop', async () => {
    s = await startServer();
    const client = createClient({ baseUrl: s.url, apiKey: 'ck.tnt_nobody.wrong', subject: 'patient-1' });
    const error = await client.conversations.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuumError);
    expect(error).toMatchObject({ code: 'invalid_grant', status: 401 });
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('signOut revokes the family: the old access token stops working on the server', async () => {
    s = await startServer();
    const manager = new TokenManager({ baseUrl: s.url, apiKey: s.apiKey, subject: 'patient-1', clock: s.clock });
    const token = await manager.accessToken();
    await manager.signOut();
    const res = await fetch(`${s.url}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect((await res.json()).code).toBe('token_invalid');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TokenPair } from '../helpers/test-app.ts';
import { appendTurn, createConversation, expectProblem, readAllTurns, refresh } from '../http/fixtures.ts';

const MINUTE = 60_000;
const TURNS = 200;
const TURN_EVERY_MS = 144_000; // 200 turns × 144 s = 8 hours
const REFRESH_AT_MS = 25 * MINUTE;

const contentOf = (n: number) => `turn ${n}: blood pressure ${100 + (n % 40)}/${60 + (n % 25)}, note #${n * 7}`;
const roleOf = (n: number) => (n % 2 === 1 ? 'user' : 'assistant');

/**
 * Run the 8-hour conversation: one turn every 144 s; the client refreshes
 * (rotating its refresh token) once its access token is 25 minutes old.
 */
async function runEightHours(t: TestApp) {
  const { apiKey } = await t.createTenant();
  let pair: TokenPair = await t.token(apiKey, 'patient-overnight');
  let issuedAt = t.clock.now();
  const started = t.clock.now();
  const id = await createConversation(t, pair.access_token, { title: 'overnight observation' });
  const refreshTokens = new Set([pair.refresh_token]);
  let refreshes = 0;
  for (let n = 1; n <= TURNS; n++) {
    t.clock.advance(TURN_EVERY_MS);
    if (t.clock.now() - issuedAt >= REFRESH_AT_MS) {
      const res = await refresh(t, pair.refresh_token);
      expect(res.statusCode, res.body).toBe(200);
      pair = res.json() as TokenPair;
      expect(refreshTokens.has(pair.refresh_token), 'each refresh issues a new refresh token').toBe(false);
      refreshTokens.add(pair.refresh_token);
      issuedAt = t.clock.now();
      refreshes++;
    }
    const res = await appendTurn(t, pair.access_token, id, {
      role: roleOf(n),
      content: contentOf(n),
      expectedTurn: n - 1,
    });
    expect(res.statusCode, `turn ${n}: ${res.body}`).toBe(201);
    expect(res.json().turn.number).toBe(n);
  }
  expect(t.clock.now() - started).toBe(8 * 60 * MINUTE);
  return { id, pair, issuedAt, refreshes };
}

describe('an 8-hour conversation outlives its 30-minute access tokens (ADR-001)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  it('keeps all 200 turns, numbered 1..200 with exact contents, while the client refreshes every 25 minutes', async () => {
    t = await buildTestApp();
    const { id, pair, refreshes } = await runEightHours(t);
    // A refresh every 11 turns (11 × 144 s = 26.4 min ≥ 25 min): 18 rotations in 8 hours.
    expect(refreshes).toBe(18);

    const turns = await readAllTurns(t, pair.access_token, id, 50);
    expect(turns.map((turn) => turn.number)).toEqual(Array.from({ length: TURNS }, (_, i) => i + 1));
    expect(turns.map((turn) => turn.content)).toEqual(Array.from({ length: TURNS }, (_, i) => contentOf(i + 1)));
    expect(turns.map((turn) => turn.role)).toEqual(Array.from({ length: TURNS }, (_, i) => roleOf(i + 1)));

    const got = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token: pair.access_token });
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"200"');
    expect(got.json()).toMatchObject({ id, turn: 200, status: 'open', title: 'overnight observation' });
  });

  it('refuses a token used at minute 31 with 401 token_expired and WWW-Authenticate; one refresh later turn 201 follows the full history', async () => {
    t = await buildTestApp();
    const { id, pair, issuedAt } = await runEightHours(t);

    t.clock.advance(issuedAt + 29 * MINUTE - t.clock.now());
    const atMinute29 = await t.request({ method: 'GET', url: `/v1/conversations/${id}`, token: pair.access_token });
    expect(atMinute29.statusCode, 'still valid before its 30 minutes are up').toBe(200);

    t.clock.advance(2 * MINUTE);
    const late = await appendTurn(t, pair.access_token, id, { content: 'too late', expectedTurn: TURNS });
    expectProblem(late, 401, 'token_expired');
    expect(late.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);

    const refreshed = await refresh(t, pair.refresh_token);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const token = (refreshed.json() as TokenPair).access_token;

    const next = await appendTurn(t, token, id, { content: 'after the refresh', expectedTurn: TURNS });
    expect(next.statusCode, next.body).toBe(201);
    expect(next.json().turn).toMatchObject({ number: 201, content: 'after the refresh' });

    const turns = await readAllTurns(t, token, id);
    expect(turns).toHaveLength(201);
    expect(turns.map((turn) => turn.number)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    expect(turns.slice(0, TURNS).map((turn) => turn.content)).toEqual(
      Array.from({ length: TURNS }, (_, i) => contentOf(i + 1)),
    );
    expect(turns.some((turn) => turn.content === 'too late')).toBe(false);
  });
});

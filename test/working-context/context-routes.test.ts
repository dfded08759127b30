import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { promptTurnTokens } from '../../src/context/prompt-builder.ts';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';

interface TurnBody {
  number: number;
  role: 'user' | 'clinician' | 'assistant' | 'system';
  content: string;
}

interface Ctx {
  t: TestApp;
  apiKey: string;
  id: string;
  token: string;
  admin: string;
  turn: number;
}

async function start(config: Record<string, unknown> = {}): Promise<Ctx> {
  const t = await buildTestApp({ config });
  const { apiKey } = await t.createTenant();
  const token = (await t.token(apiKey, 'patient-1')).access_token;
  const admin = (await t.token(apiKey, 'dr-ruiz', 'admin')).access_token;
  const id = (await t.request({ method: 'POST', url: '/v1/conversations', token, body: {} })).json().id;
  return { t, apiKey, id, token, admin, turn: 0 };
}

async function say(c: Ctx, content: string, role = 'user') {
  const res = await c.t.request({
    method: 'POST',
    url: `/v1/conversations/${c.id}/turns`,
    token: c.token,
    body: { role, content, expectedTurn: c.turn },
  });
  expect(res.statusCode, res.body).toBe(201);
  c.turn = res.json().turn.number;
}

const context = async (c: Ctx, q?: string) => {
  const res = await c.t.request({
    method: 'GET',
    url: `/v1/conversations/${c.id}/context${q === undefined ? '' : `?q=${encodeURIComponent(q)}`}`,
    token: c.token,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

describe('working context (ADR-004)', () => {
  let c: Ctx;
  afterEach(async () => c?.t.close());

  it('keeps the profile from every turn, the last 10 messages verbatim and the rest in a rolling summary', async () => {
    // A recent-token budget this large leaves the message count as the only bound of the window.
    c = await start({ contextRecentTokens: 100_000 });
    await say(c, 'I take metformin 500 mg twice a day for my diabetes.');
    await say(c, 'I am allergic to penicillin, it gives me hives.');
    for (let n = 0; n < 23; n++)
      await say(c, n % 2 ? 'Okay, thank you.' : `My blood sugar this morning was ${120 + n}.`);
    const ctx = await context(c);
    expect(ctx.profile.medications.map((m: { name: string }) => m.name)).toContain('metformin');
    expect(ctx.profile.allergies.map((a: { substance: string }) => a.substance)).toContain('penicillin');
    expect(ctx.recent.map((t: { number: number }) => t.number)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(ctx.summary).toMatch(/blood sugar this morning was 132/);
    expect(ctx.tokens).toBeGreaterThan(0);
    expect(ctx.tokens).toBeLessThanOrEqual(4000);
  });

  it('bounds the recent window by CONTINUUM_CONTEXT_RECENT_TOKENS, always keeping the last 2 messages', async () => {
    c = await start({ contextRecentTokens: 60 });
    for (let n = 0; n < 8; n++) await say(c, `On day ${n + 1} my neighbour drove me to the pharmacy after lunch.`);
    const ctx = await context(c);
    const numbers = ctx.recent.map((t: { number: number }) => t.number);
    expect(numbers.at(-1)).toBe(8);
    expect(numbers.length).toBeGreaterThanOrEqual(2);
    expect(numbers.length).toBeLessThan(8);
    const recentTokens = ctx.recent.reduce(
      (n: number, t: TurnBody) => n + promptTurnTokens({ number: t.number, role: t.role, content: t.content }),
      0,
    );
    expect(recentTokens).toBeLessThanOrEqual(60);
    // What left the window folded into the summary, not out of the working context.
    expect(ctx.summary).toContain(`On day ${numbers[0] - 1} my neighbour`);

    await say(c, `A long message: ${'my knee was stiff this morning and it eased by noon. '.repeat(12)}`);
    expect((await context(c)).recent.map((t: { number: number }) => t.number)).toEqual([8, 9]);
  });

  it('the summary leaves out what the profile already carries and keeps what it does not', async () => {
    c = await start({ contextRecentTokens: 16 });
    await say(c, 'I take metformin 500 mg twice a day for my diabetes.');
    await say(c, 'No nausea, but I get dizzy every morning since the new job.');
    await say(c, 'Okay.');
    await say(c, 'Okay.');
    const ctx = await context(c);
    expect(ctx.profile.medications.map((m: { name: string }) => m.name)).toContain('metformin');
    expect(ctx.summary).not.toMatch(/metformin/);
    expect(ctx.summary).toMatch(/dizzy every morning/);
  });

  it('messages older than the age limit leave the working context but not the record', async () => {
    c = await start({ contextMaxAge: 3600 });
    await say(c, 'I stopped taking lisinopril last week.');
    await say(c, 'The cough is gone now.');
    c.t.clock.advance(2 * 3600 * 1000);
    c.token = (await c.t.token(c.apiKey, 'patient-1')).access_token;
    await say(c, 'Today I have a headache.');
    const ctx = await context(c);
    expect(ctx.recent.map((t: { number: number }) => t.number)).toEqual([3]);
    expect(ctx.summary).toMatch(/lisinopril/i);
    const turns = await c.t.request({ method: 'GET', url: `/v1/conversations/${c.id}/turns`, token: c.token });
    expect(turns.json().items).toHaveLength(3);
  });

  it('a cached context follows every change: a new turn, and time passing the age limit', async () => {
    c = await start({ contextMaxAge: 3600 });
    await say(c, 'I take metformin 500 mg twice a day.');
    const first = await context(c);
    expect(await context(c)).toEqual(first);
    await say(c, 'I am allergic to penicillin.');
    const second = await context(c);
    expect(second.recent.map((t: { number: number }) => t.number)).toEqual([1, 2]);
    expect(second.profile.allergies.map((a: { substance: string }) => a.substance)).toEqual(['penicillin']);
    // No new turn, but the first message ages out of the recent window.
    c.t.clock.advance(3600 * 1000 + 1);
    c.token = (await c.t.token(c.apiKey, 'patient-1')).access_token;
    expect((await context(c)).recent).toEqual([]);
  });

  it('keeps the profile block within CONTINUUM_CONTEXT_PROFILE_TOKENS, allergies and current medications first; GET …/profile has every fact', async () => {
    c = await start({ contextProfileTokens: 60 });
    await say(c, 'I am allergic to penicillin, it gives me hives.');
    const places = ['Boston', 'Denver', 'Austin', 'Seattle', 'Chicago', 'Phoenix', 'Atlanta', 'Portland'];
    for (const place of places) await say(c, `My sister lives in ${place} and my brother works for Acme Corporation.`);
    await say(c, 'I take metformin 500 mg twice a day.');
    await say(c, 'I stopped taking lisinopril in March.');
    const ctx = await context(c);
    const full = await c.t.request({ method: 'GET', url: `/v1/conversations/${c.id}/profile`, token: c.token });
    expect(full.statusCode, full.body).toBe(200);
    const profile = full.json().profile;
    const count = (p: Record<string, unknown>) =>
      Object.values(p).reduce((n: number, v) => n + (Array.isArray(v) ? v.length : 0), 0);
    expect(count(ctx.profile)).toBeLessThan(count(profile));
    expect(ctx.profileOmitted).toBe(count(profile) - count(ctx.profile));
    expect(ctx.profile.allergies.map((a: { substance: string }) => a.substance)).toEqual(['penicillin']);
    expect(ctx.profile.medications.map((m: { name: string }) => m.name)).toContain('metformin');
    expect(profile.medications.map((m: { name: string }) => m.name)).toEqual(
      expect.arrayContaining(['metformin', 'lisinopril']),
    );
  });

  it('retrieves the older turns most relevant to the next message, and search covers the whole history', async () => {
    c = await start();
    await say(c, 'Years ago I had a bad reaction to sulfa drugs: my face swelled up.');
    for (let n = 0; n < 30; n++) await say(c, `Walking ${n + 1} minutes today felt fine.`);
    const ctx = await context(c, 'Can I take Bactrim? It is a sulfa antibiotic.');
    expect(ctx.retrieved[0]).toMatchObject({ number: 1 });
    expect(ctx.retrieved[0].score).toBeGreaterThan(0);
    const search = await c.t.request({
      method: 'GET',
      url: `/v1/conversations/${c.id}/search?q=sulfa%20swelled`,
      token: c.token,
    });
    expect(search.json().items[0]).toMatchObject({ number: 1, content: expect.stringContaining('sulfa') });
  });

  it('retrieves nothing for a message of pleasantries, and keeps retrieved turns within CONTINUUM_CONTEXT_RETRIEVED_TOKENS', async () => {
    c = await start({ contextRetrievedTokens: 40 });
    await say(c, 'Years ago I had a bad reaction to sulfa drugs: my face swelled up.');
    await say(c, `Sulfa again: ${'the rash from the sulfa pills covered my arms and my back for a week. '.repeat(4)}`);
    for (let n = 0; n < 30; n++) await say(c, `Walking ${n + 1} minutes today felt good.`);
    expect((await context(c, 'Okay, sounds good, thank you!')).retrieved).toEqual([]);
    const ctx = await context(c, 'Can I take Bactrim? It is a sulfa antibiotic.');
    // The long turn ranks but does not fit the budget; the short one does.
    expect(ctx.retrieved.map((t: { number: number }) => t.number)).toEqual([1]);
  });

  it('the working context stays within its token budget', async () => {
    c = await start({ contextTokens: 300 });
    for (let n = 0; n < 15; n++) {
      await say(
        c,
        `Turn ${n}: I take metformin and lisinopril, and my knee hurts when I climb the stairs every evening.`,
      );
    }
    const ctx = await context(c, 'What should I do about my knee?');
    expect(ctx.tokens).toBeLessThanOrEqual(300);
  });

  it('a clinician corrects, confirms and retracts facts; corrections are in the history and win over later extraction', async () => {
    c = await start();
    await say(c, 'I take metformin 500 mg twice a day.');
    const patch = (body: unknown, token = c.admin) =>
      c.t.request({ method: 'PATCH', url: `/v1/conversations/${c.id}/profile`, token, body });
    const corrected = await patch({
      op: 'correct',
      fact: { kind: 'medication', id: 'med:metformin', dose: '1000 mg' },
    });
    expect(corrected.statusCode, corrected.body).toBe(200);
    expect(corrected.json().profile.medications[0]).toMatchObject({
      name: 'metformin',
      dose: '1000 mg',
      corrected: true,
    });
    // Restating the old dose in an unrelated way does not undo the correction... but a newer contradicting turn does.
    c.turn += 1;
    await say(c, 'Just so you know, the pharmacy label still says metformin.');
    expect((await context(c)).profile.medications[0].dose).toBe('1000 mg');
    await say(c, 'I stopped taking metformin yesterday.');
    expect((await context(c)).profile.medications[0].status).toBe('stopped');

    const history = await c.t.request({ method: 'GET', url: `/v1/conversations/${c.id}/turns`, token: c.token });
    expect(history.json().items.find((t: { role: string }) => t.role === 'system').content).toMatch(
      /Profile correct: medication med:metformin/,
    );

    expect((await patch({ op: 'retract', fact: { kind: 'medication', id: 'med:metformin' } })).statusCode).toBe(200);
    expect((await context(c)).profile.medications.map((m: { id: string }) => m.id)).not.toContain('med:metformin');
    const denied = await patch({ op: 'confirm', fact: { kind: 'medication', id: 'med:metformin' } }, c.token);
    expect(denied.statusCode).toBe(403);
    const unknown = await patch({ op: 'confirm', fact: { kind: 'allergy', id: 'allergy:latex' } });
    expect(unknown.statusCode).toBe(404);
    const bad = await patch({ op: 'rewrite', fact: { kind: 'medication' } });
    expect(bad.statusCode).toBe(400);
  });

  it('context state is sealed at rest and rebuilt from the record when it is lost', async () => {
    c = await start();
    await say(c, 'My cardiologist Dr. Okafor put me on apixaban 5 mg twice daily.');
    const before = await context(c);
    const raw = Buffer.concat([readFileSync(c.t.dbFile), readFileSync(`${c.t.dbFile}-wal`)]);
    expect(raw.includes('apixaban')).toBe(false);
    const db = new Database(c.t.dbFile);
    db.prepare('DELETE FROM conversation_context').run();
    db.close();
    const fresh = await buildTestApp({ dataDir: c.t.dataDir });
    try {
      const res = await fresh.request({ method: 'GET', url: `/v1/conversations/${c.id}/context`, token: c.token });
      expect(res.json().profile.medications).toEqual(before.profile.medications);
    } finally {
      await fresh.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContinuumClient,
  ContinuumError,
  type ContinuumErrorCode,
  createClient,
  isContinuumError,
} from '../../src/client/index.ts';
import { type ClientTestServer, startServer, tapFetch } from './support.ts';

describe('conversations, turns and context through the SDK', () => {
  let s: ClientTestServer;
  let client: ContinuumClient;
  beforeAll(async () => {
    s = await startServer();
    client = s.client();
  });
  afterAll(async () => {
    await s.close();
  });

  it('creates, gets, lists page by page and closes conversations; a keyed create again returns the same one', async () => {
    const own = s.client({ subject: 'patient-lists' });
    const first = await own.conversations.create({
      title: 'intake',
      clientKey: 'visit-0001',
      startedAt: '2026-11-25T09:00:00Z',
      metadata: { ward: 'B' },
    });
    expect(first).toMatchObject({ created: true, title: 'intake', turn: 0, status: 'open', metadata: { ward: 'B' } });
    const again = await own.conversations.create({
      title: 'intake',
      clientKey: 'visit-0001',
      startedAt: '2026-11-25T09:00:00Z',
    });
    expect(again).toMatchObject({ created: false, id: first.id });
    for (let n = 0; n < 4; n += 1) await own.conversations.create({ title: `c${n}` });
    const page = await own.conversations.list({ limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();
    const all = [];
    for await (const conversation of own.conversations.listAll({ pageSize: 2 })) all.push(conversation.id);
    expect(all).toHaveLength(5);
    expect(new Set(all).size).toBe(5);
    expect((await own.conversations.get(first.id)).id).toBe(first.id);
    const closed = await own.conversations.close(first.id);
    expect(closed.status).toBe('closed');
  });

  it('appends turns and reads them back in pages', async () => {
    const { id } = await client.conversations.create();
    let expectedTurn = 0;
    for (let n = 1; n <= 7; n += 1) {
      const { turn } = await client.turns.append(id, {
        role: n % 2 ? 'user' : 'clinician',
        content: `m${n}`,
        expectedTurn,
      });
      expectedTurn = turn.number;
    }
    expect((await client.turns.list(id, { after: 2, limit: 3 })).map((t) => t.number)).toEqual([3, 4, 5]);
    const all = [];
    for await (const turn of client.turns.all(id, { pageSize: 2 })) all.push(turn.content);
    expect(all).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect((await client.turns.between(id, 4, 6)).map((t) => t.number)).toEqual([5, 6]);
  });

  it('the same idempotency key twice writes the turn once and says the second was replayed', async () => {
    const { id } = await client.conversations.create();
    const input = { role: 'user' as const, content: 'Any allergies?', expectedTurn: 0, idempotencyKey: 'msg-0001' };
    const first = await client.turns.append(id, input);
    const second = await client.turns.append(id, input);
    expect(first.replayed).toBe(false);
    expect(second).toMatchObject({ replayed: true, idempotencyKey: 'msg-0001' });
    expect(second.turn).toEqual(first.turn);
    expect(await client.turns.list(id)).toHaveLength(1);
  });

  it("onConflict: 'rebase' reads the missed turns and appends after them", async () => {
    const { id } = await client.conversations.create();
    const other = s.client();
    await other.turns.append(id, { role: 'clinician', content: 'Any allergies?', expectedTurn: 0 });
    await other.turns.append(id, { role: 'clinician', content: 'Any medications?', expectedTurn: 1 });
    const seen: number[][] = [];
    const result = await client.turns.append(id, {
      role: 'user',
      content: 'Penicillin gives me a rash.',
      expectedTurn: 0,
      onConflict: 'rebase',
      onRebase: ({ missed }) => {
        seen.push(missed.map((t) => t.number));
        return undefined;
      },
    });
    expect(result).toMatchObject({ rebases: 1, turn: { number: 3 } });
    expect(result.missed.map((t) => t.content)).toEqual(['Any allergies?', 'Any medications?']);
    expect(seen).toEqual([[1, 2]]);
    expect(client.stats.rebases).toBeGreaterThanOrEqual(1);
  });

  it('rebase reads every missed turn past the 100 a conflict carries', async () => {
    const { id } = await client.conversations.create();
    for (let n = 0; n < 120; n += 1) await client.turns.append(id, { role: 'user', content: `t${n}`, expectedTurn: n });
    const result = await client.turns.append(id, {
      role: 'clinician',
      content: 'Caught up.',
      expectedTurn: 0,
      onConflict: 'rebase',
    });
    expect(result.turn.number).toBe(121);
    expect(result.missed.map((t) => t.number)).toEqual(Array.from({ length: 120 }, (_, n) => n + 1));
  });

  it('a rebase declined by onRebase, or past maxRebases, raises the typed turn_conflict', async () => {
    const { id } = await client.conversations.create();
    await s.client().turns.append(id, { role: 'clinician', content: 'first', expectedTurn: 0 });
    const declined = await client.turns
      .append(id, { role: 'user', content: 'late', expectedTurn: 0, onConflict: 'rebase', onRebase: () => false })
      .catch((e: unknown) => e);
    expect(declined).toBeInstanceOf(ContinuumError);
    expect(declined).toMatchObject({ code: 'turn_conflict', status: 409, currentTurn: 1 });
    expect((declined as ContinuumError).missed?.map((t) => t.content)).toEqual(['first']);

    // Another writer gets in before every rebase: after two rebases the conflict is raised.
    const rival = s.client();
    let rivalTurn = 1;
    const exhausted = await client.turns
      .append(id, {
        role: 'user',
        content: 'always late',
        expectedTurn: 0,
        onConflict: 'rebase',
        maxRebases: 2,
        onRebase: async () => {
          rivalTurn = (await rival.turns.append(id, { role: 'clinician', content: 'again', expectedTurn: rivalTurn }))
            .turn.number;
          return true;
        },
      })
      .catch((e: unknown) => e);
    expect(exhausted).toMatchObject({ code: 'turn_conflict', currentTurn: 3 });
    expect((await client.turns.list(id)).map((t) => t.content)).toEqual(['first', 'again', 'again']);
  });

  it('reads the working context, searches the history, and lets an admin client correct the profile', async () => {
    const { id } = await client.conversations.create();
    await client.turns.append(id, { role: 'user', content: 'I take metformin 500 mg twice a day.', expectedTurn: 0 });
    await client.turns.append(id, { role: 'user', content: 'Penicillin gives me a rash.', expectedTurn: 1 });
    const context = await client.conversations.context(id);
    expect(context.profile.medications.map((m) => m.name)).toContain('metformin');
    expect(context.recent.map((t) => t.number)).toEqual([1, 2]);
    expect(context.tokens).toBeGreaterThan(0);
    const hits = await client.conversations.search(id, 'rash', { limit: 5 });
    expect(hits[0]).toMatchObject({ number: 2 });
    expect(hits[0]!.score).toBeGreaterThan(0);

    const clinician = s.client({ subject: 'dr-who', scope: 'admin' });
    const medication = context.profile.medications.find((m) => m.name === 'metformin')!;
    const profile = await clinician.conversations.patchProfile(id, {
      op: 'confirm',
      fact: { kind: 'medication', id: medication.id },
    });
    expect(profile.medications.find((m) => m.id === medication.id)?.confirmed).toBe(true);
    const refused = await client.conversations
      .patchProfile(id, { op: 'confirm', fact: { kind: 'medication', id: medication.id } })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'insufficient_scope', status: 403 });
  });

  it('errors are ContinuumError with a literal code, the status, the detail and the request id', async () => {
    const { id } = await client.conversations.create();
    const stranger = s.client({ subject: 'patient-2' });
    const notFound = await stranger.conversations.get(id).catch((e: unknown) => e);
    expect(isContinuumError(notFound, 'not_found')).toBe(true);
    const error = notFound as ContinuumError;
    expect(error.status).toBe(404);
    expect(error.requestId).toMatch(/^req_/);
    expect(error.detail.length).toBeGreaterThan(0);
    expect(error.problem['instance']).toBe(`/v1/conversations/${id}`);
    // `code` narrows like any literal union.
    const describe = (code: ContinuumErrorCode): string => {
      switch (code) {
        case 'not_found':
          return 'gone';
        case 'turn_conflict':
          return 'moved on';
        default:
          return code;
      }
    };
    expect(describe(error.code)).toBe('gone');

    await client.conversations.close(id);
    const closed = await client.turns.append(id, { role: 'user', content: 'hello?', expectedTurn: 0 }).catch((e) => e);
    expect(closed).toMatchObject({ code: 'conversation_closed', status: 409 });

    const tooLong = await client.turns
      .append(id, { role: 'user', content: 'x'.repeat(40_000), expectedTurn: 0 })
      .catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ code: 'invalid_request', status: 400 });

    expect(() => client.turns.append(id, { role: 'user', content: 'x', expectedTurn: -1 })).toThrow(TypeError);
  });

  it('a 429 carries retryAfter; an unreachable server is network_error', async () => {
    const limited = await startServer({ config: { maxSessionsPerTenant: 1 } });
    try {
      const a = limited.client({ subject: 'a' });
      await a.conversations.create();
      const error = await limited
        .client({ subject: 'b' })
        .conversations.create()
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'session_limit', status: 429 });
      expect((error as ContinuumError).retryAfter).toBeGreaterThanOrEqual(1);
    } finally {
      await limited.close();
    }

    const tap = tapFetch();
    const unreachable = createClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: s.apiKey,
      subject: 'patient-1',
      fetch: tap.fetch,
    });
    const error = await unreachable.conversations.list().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'network_error', status: 0 });
  });
});

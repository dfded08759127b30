import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.ts';
import { appendTurn, createConversation, expectProblem, readAllTurns } from '../http/fixtures.ts';

/** The problem body without the members that name this request (its path and id). */
function shapeOf(res: LightMyRequestResponse) {
  const { instance: _instance, requestId: _requestId, ...rest } = res.json() as Record<string, unknown>;
  return rest;
}

describe('isolation: another tenant or another subject sees 404, never the conversation (ADR-009)', () => {
  let t: TestApp;
  afterEach(async () => t?.close());

  async function setup() {
    t = await buildTestApp();
    const clinic = await t.createTenant();
    const other = await t.createTenant();
    const owner = (await t.token(clinic.apiKey, 'patient-1')).access_token;
    const id = await createConversation(t, owner, { title: 'private intake' });
    expect((await appendTurn(t, owner, id, { content: 'my HIV status is positive', expectedTurn: 0 })).statusCode).toBe(
      201,
    );
    return {
      id,
      owner,
      // Same subject name in another tenant: the tenant, not the name, must decide.
      otherTenant: (await t.token(other.apiKey, 'patient-1')).access_token,
      otherSubject: (await t.token(clinic.apiKey, 'patient-2')).access_token,
      clinicAdmin: (await t.token(clinic.apiKey, 'ops', 'admin')).access_token,
      otherAdmin: (await t.token(other.apiKey, 'ops', 'admin')).access_token,
    };
  }

  /** Every route of a conversation, as `token`. */
  function attempts(id: string, token: string) {
    return [
      t.request({ method: 'GET', url: `/v1/conversations/${id}`, token }),
      t.request({ method: 'GET', url: `/v1/conversations/${id}/turns`, token }),
      appendTurn(t, token, id, { content: 'injected', expectedTurn: 1 }),
      t.request({ method: 'POST', url: `/v1/conversations/${id}/close`, token }),
    ];
  }

  async function listedIds(token: string) {
    const res = await t.request({ method: 'GET', url: '/v1/conversations?limit=100', token });
    expect(res.statusCode).toBe(200);
    return (res.json().items as { id: string }[]).map((c) => c.id);
  }

  it.each([
    ['a token of another tenant (same subject name)', 'otherTenant'],
    ['another subject of the same tenant', 'otherSubject'],
    ['an admin token of another tenant', 'otherAdmin'],
  ] as const)(
    'answers %s with 404 not_found on get, turns, append and close, and leaves it out of the list',
    async (_name, who) => {
      const tokens = await setup();
      const intruder = tokens[who];
      for (const res of await Promise.all(attempts(tokens.id, intruder))) {
        const problem = expectProblem(res, 404, 'not_found');
        expect(res.body).not.toContain('HIV');
        expect(problem).not.toHaveProperty('turn');
      }
      expect(await listedIds(intruder)).not.toContain(tokens.id);

      // Nothing was written or closed by the attempts.
      const got = await t.request({ method: 'GET', url: `/v1/conversations/${tokens.id}`, token: tokens.owner });
      expect(got.json()).toMatchObject({ status: 'open', turn: 1 });
      expect((await readAllTurns(t, tokens.owner, tokens.id)).map((turn) => turn.content)).toEqual([
        'my HIV status is positive',
      ]);
    },
  );

  it('lets an admin-scope token read every conversation of its own tenant', async () => {
    const tokens = await setup();
    const second = await createConversation(t, tokens.otherSubject);
    const foreign = await createConversation(t, tokens.otherTenant);

    const listed = await listedIds(tokens.clinicAdmin);
    expect(listed).toEqual(expect.arrayContaining([tokens.id, second]));
    expect(listed).not.toContain(foreign);
    expect(await listedIds(tokens.owner)).toEqual([tokens.id]);

    const got = await t.request({ method: 'GET', url: `/v1/conversations/${tokens.id}`, token: tokens.clinicAdmin });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: tokens.id, subject: 'patient-1' });
    expect((await readAllTurns(t, tokens.clinicAdmin, tokens.id)).map((turn) => turn.content)).toEqual([
      'my HIV status is positive',
    ]);
    const res = await t.request({ method: 'GET', url: `/v1/conversations/${foreign}`, token: tokens.clinicAdmin });
    expectProblem(res, 404, 'not_found');
  });

  it('answers for a foreign conversation exactly as for one that does not exist (no existence leak)', async () => {
    const tokens = await setup();
    const missing = `cnv_${'a'.repeat(32)}`;
    const foreign = await Promise.all(attempts(tokens.id, tokens.otherTenant));
    const absent = await Promise.all(attempts(missing, tokens.otherTenant));
    const malformed = await Promise.all(attempts('cnv_nope', tokens.otherTenant));
    for (const [i, res] of foreign.entries()) {
      expect(res.statusCode).toBe(404);
      expect(shapeOf(res)).toEqual(shapeOf(absent[i]!));
      expect(shapeOf(res)).toEqual(shapeOf(malformed[i]!));
      expect(Object.keys(res.headers).sort()).toEqual(Object.keys(absent[i]!.headers).sort());
    }
  });
});

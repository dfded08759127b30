import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTenantId } from '../../src/core/types.ts';
import { nastyText, wellFormed } from './support/arbitraries.ts';
import { expectRefused, show } from './support/harness.ts';
import { check, Tally } from './support/property.ts';
import { expectRefusal } from './support/refusal.ts';
import { listOperations, type Operation, pathParameters, send, specOf } from './support/routes.ts';
import { FORGED_ACCESS, FORGED_OPERATOR, junkBearer } from './support/tokens.ts';
import { buildWorld, expectNoStateChange, snapshot, type World } from './support/world.ts';

/**
 * Forged, borrowed and replayed credentials on every route that takes one:
 * each is a 401 (403 for a real token of too small a scope, 404 for another
 * tenant's or subject's conversation) and changes nothing.
 */
const tally = new Tally('tokens');
let world: World;
let operations: Operation[];
let revokedToken: string;

beforeAll(async () => {
  world = await buildWorld();
  operations = await listOperations(world);
  // A pair whose family was revoked (logout) before the snapshots start.
  const pair = await world.t.token(world.a.apiKey, 'patient-1');
  await world.t.request({ method: 'POST', url: '/v1/auth/revoke', body: { token: pair.refresh_token } });
  revokedToken = pair.access_token;
});
afterAll(async () => {
  tally.report();
  await world?.t.close();
});

const byAuth =
  (...auth: string[]) =>
  () =>
    operations.filter((op) => auth.includes(specOf(op).auth)).map((op) => [op.key, op] as const);

describe('forged access tokens', () => {
  it('every route behind an access token refuses each forgery with 401 and changes nothing', async () => {
    const forgeries = [
      ...FORGED_ACCESS.filter((forgery) => !forgery.unknownKid),
      { how: 'a token whose family was revoked', build: async () => `Bearer ${revokedToken}` },
    ];
    for (const [, op] of byAuth('user', 'admin')()) {
      for (const forgery of forgeries) {
        const authorization = await forgery.build(world);
        await expectRefused(world, op, { authorization }, forgery.how, ['token_invalid', 'token_expired']);
      }
      tally.add(forgeries.length);
    }
  });

  it('tokens naming an unknown key, sent to every such route at once, are each a 401 and change nothing', async () => {
    const routes = byAuth('user', 'admin', 'operator')();
    for (const forgery of FORGED_ACCESS.filter((f) => f.unknownKid)) {
      const authorization = await forgery.build(world);
      const before = await snapshot(world);
      const answers = await Promise.all(routes.map(([, op]) => send(world, op, { authorization })));
      for (const [i, res] of answers.entries()) {
        expectRefusal(res, `${routes[i]![0]} with ${forgery.how}`, ['token_invalid']);
      }
      await expectNoStateChange(world, before, forgery.how);
      tally.add(routes.length);
    }
  });

  it('random junk as a bearer token is a 401 on every route behind an access token', async () => {
    for (const [key, op] of byAuth('user', 'admin')()) {
      await check(
        tally,
        `junk bearer ${key}`,
        junkBearer,
        async (authorization) => {
          await expectRefused(world, op, { authorization }, `Authorization ${show(authorization)}`, [
            'token_invalid',
            'token_expired',
          ]);
        },
        8,
      );
    }
  });

  it('every operator route refuses near misses of the operator token and every access token with 401', async () => {
    for (const [key, op] of byAuth('operator')()) {
      const forgeries = [
        ...FORGED_OPERATOR,
        ...FORGED_ACCESS.filter((f) => f.how !== 'the operator token' && !f.unknownKid),
      ];
      for (const forgery of forgeries) {
        await expectRefused(world, op, { authorization: await forgery.build(world) }, forgery.how, ['token_invalid']);
      }
      tally.add(forgeries.length);
      await check(
        tally,
        `junk operator token ${key}`,
        junkBearer,
        async (authorization) => {
          await expectRefused(world, op, { authorization }, `Authorization ${show(authorization)}`, ['token_invalid']);
        },
        8,
      );
    }
  });
});

describe('real tokens of someone else', () => {
  it("another tenant's or another subject's token on a conversation route is 404, like a missing conversation", async () => {
    const routes = operations.filter(
      (op) => pathParameters(op).some((p) => p.name === 'id') && ['user', 'admin'].includes(specOf(op).auth),
    );
    for (const op of routes) {
      for (const [who, token] of [
        ['tenant B', world.b.owner.access_token],
        ['another subject of tenant A', world.a.other.access_token],
      ] as const) {
        const codes = specOf(op).auth === 'admin' ? (['insufficient_scope'] as const) : (['not_found'] as const);
        await expectRefused(world, op, { authorization: `Bearer ${token}` }, `the token of ${who}`, codes);
      }
      tally.add(2);
    }
  });

  it('a conversations-scope token on an admin-scope route is 403 insufficient_scope', async () => {
    for (const [, op] of byAuth('admin')()) {
      await expectRefused(world, op, { authorization: `Bearer ${world.a.owner.access_token}` }, 'a subject token', [
        'insufficient_scope',
      ]);
      tally.add(1);
    }
  });
});

describe('refresh tokens', () => {
  const tokenRoute = () => operations.find((op) => op.key === 'post /v1/auth/token')!;
  const revokeRoute = () => operations.find((op) => op.key === 'post /v1/auth/revoke')!;

  it('a replayed refresh token is 401 refresh_reused, revokes its family and changes nothing else', async () => {
    const replays = fc.record({
      subject: fc.constantFrom('patient-1', 'patient-2', 'clinician-9'),
      // Which tokens of the family are presented after the spent one, and whether the first replay races a twin.
      afterwards: fc.array(fc.constantFrom('spent', 'current'), { maxLength: 3 }),
      racing: fc.boolean(),
    });
    await check(
      tally,
      'replayed refresh tokens',
      replays,
      async ({ subject, afterwards, racing }) => {
        world.settled = undefined;
        const first = await world.t.token(world.a.apiKey, subject);
        const rotated = await world.t.request({
          method: 'POST',
          url: '/v1/auth/token',
          body: { grant_type: 'refresh_token', refresh_token: first.refresh_token },
        });
        expect(rotated.statusCode).toBe(200);
        const current = rotated.json() as { refresh_token: string; access_token: string };
        const before = await snapshot(world);
        const replay = (token: string) =>
          world.t.request({
            method: 'POST',
            url: '/v1/auth/token',
            body: { grant_type: 'refresh_token', refresh_token: token },
          });
        const answers = racing
          ? await Promise.all([replay(first.refresh_token), replay(first.refresh_token)])
          : [await replay(first.refresh_token)];
        expect(answers.map((res) => expectRefusal(res, 'a replayed refresh token'))).toContain('refresh_reused');
        for (const res of answers) expectRefusal(res, 'a replayed refresh token', ['refresh_reused', 'invalid_grant']);
        for (const which of afterwards) {
          const res = await replay(which === 'spent' ? first.refresh_token : current.refresh_token);
          expectRefusal(res, `the ${which} refresh token after a replay`, ['refresh_reused', 'invalid_grant']);
        }
        await expectNoStateChange(world, before, 'a replayed refresh token');
        // The designed effect: the whole family is revoked, its newest access token with it.
        const family = decodeJwt(current.access_token)['fid'] as string;
        const stored = await world.t.services.store.getRefreshFamily(asTenantId(world.a.tenantId), family);
        expect(stored?.revokedAtMs, 'the replayed family is revoked').not.toBeNull();
        const use = await world.t.request({ method: 'GET', url: '/v1/conversations', token: current.access_token });
        expectRefusal(use, "the replayed family's access token", ['token_invalid']);
      },
      12,
    );
  });

  /** Refresh tokens nobody was given: random text, well-formed secrets of no family, real ones altered. */
  const forgedRefresh = (w: World) => {
    const real = w.a.owner.refresh_token;
    const [, tenant, secret] = real.split('.');
    const flip = (s: string, i: number) => `${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
    return fc.oneof(
      nastyText(),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `crt.${tenant}.${s}`),
      fc.constant(`crt.${w.b.tenantId}.${secret}`),
      fc.constant(`crt.tnt_system.${secret}`),
      fc.nat({ max: real.length - 1 }).map((i) => flip(real, i)),
      fc.nat({ max: real.length - 1 }).map((i) => real.slice(0, i)),
      fc.constant(`${real}=`),
      fc.constant(w.a.apiKey),
      fc.constant(w.a.owner.access_token.slice(0, 200)),
      fc.constant(`ck.${tenant}.${secret}`),
    );
  };

  it('a forged refresh token is refused by the refresh grant and changes nothing', async () => {
    await check(
      tally,
      'forged refresh tokens',
      forgedRefresh(world),
      async (token) => {
        await expectRefused(
          world,
          tokenRoute(),
          { body: { grant_type: 'refresh_token', refresh_token: token } },
          `refresh_token ${show(token)}`,
          ['invalid_grant', 'invalid_request'],
        );
      },
      40,
    );
  });

  it('a forged API key is refused by the api_key grant and changes nothing', async () => {
    const [, tenant, secret] = world.a.apiKey.split('.');
    const forged = fc.oneof(
      nastyText(),
      fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `ck.${tenant}.${s}`),
      fc.constant(`ck.${world.b.tenantId}.${secret}`),
      fc.nat({ max: world.a.apiKey.length - 1 }).map((i) => world.a.apiKey.slice(0, i)),
      fc.constant(world.a.owner.refresh_token),
      fc.constant(`${world.a.apiKey} `),
    );
    await check(
      tally,
      'forged api keys',
      fc.tuple(forged, fc.constantFrom('patient-1', 'patient-9')),
      async ([apiKey, subject]) => {
        await expectRefused(
          world,
          tokenRoute(),
          { body: { grant_type: 'api_key', api_key: apiKey, subject } },
          `api_key ${show(apiKey)}`,
          ['invalid_grant', 'invalid_request'],
        );
      },
      40,
    );
  });

  it('revoking a forged refresh token answers 200 (RFC 7009; 400 for text that is not text) and revokes nothing', async () => {
    await check(
      tally,
      'forged revocations',
      forgedRefresh(world).filter((token) => token.length <= 200),
      async (token) => {
        const before = await snapshot(world);
        const res = await send(world, revokeRoute(), { body: { token } });
        if (wellFormed(token)) expect(res.statusCode, res.body).toBe(200);
        else expectRefusal(res, `revoke ${show(token)}`, ['invalid_request']);
        await expectNoStateChange(world, before, `revoke ${show(token)}`);
      },
      30,
    );
  });
});

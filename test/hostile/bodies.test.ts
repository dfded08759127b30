import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { breakingBody, brokenBytes, NOT_JSON_TYPES } from './support/arbitraries.ts';
import { expectRefused, show } from './support/harness.ts';
import { check, Tally } from './support/property.ts';
import { listOperations, type Operation, specOf } from './support/routes.ts';
import { buildWorld, type World } from './support/world.ts';

/**
 * Bodies: random JSON, mutations of each route's valid body (wrong types,
 * unknown and missing fields, huge and deeply nested values, lone
 * surrogates), bytes that are not UTF-8 or not JSON, bodies over the size
 * limit and bodies of other media types. Each is a 4xx problem and changes
 * nothing. Routes that declare no body (a close, a key rotation, a removal)
 * ignore a well-formed JSON one, as Fastify does; every body that cannot be
 * read at all is refused there too.
 */
const tally = new Tally('bodies');
let world: World;
let operations: Operation[];
const BODY_LIMIT = 262_144;

beforeAll(async () => {
  world = await buildWorld();
  operations = await listOperations(world);
});
afterAll(async () => {
  tally.report();
  await world?.t.close();
});

/** Routes whose method carries a body. */
const writing = () => operations.filter((op) => op.method !== 'GET');
const validJson = (op: Operation) => JSON.stringify(specOf(op).valid(world).body ?? {});

describe('JSON that breaks the body schema', () => {
  it('every route with a body schema refuses random JSON and mutations of its valid body', async () => {
    for (const op of operations.filter((o) => o.body !== undefined)) {
      await check(
        tally,
        `breaking bodies ${op.key}`,
        breakingBody(op.body!, specOf(op).valid(world).body),
        async (body) => {
          await expectRefused(world, op, { body }, `body ${show(body)}`, ['invalid_request', 'payload_too_large']);
        },
        60,
      );
    }
  });
});

describe('bodies of the right shape that the route still refuses', () => {
  const route = (key: string) => operations.find((op) => op.key === key)!;

  it('an append that does not follow the current turn is 409 turn_conflict (or 400 for a disagreeing If-Match)', async () => {
    const op = route('post /v1/conversations/{id}/turns');
    const valid = specOf(op).valid(world).body as Record<string, unknown>;
    const stale = fc.oneof(fc.nat({ max: 2 }), fc.integer({ min: 4, max: Number.MAX_SAFE_INTEGER }));
    await check(
      tally,
      'stale appends',
      fc.tuple(stale, fc.option(fc.nat({ max: 10 }), { nil: undefined })),
      async ([expectedTurn, ifMatch]) => {
        const headers: Record<string, string> = ifMatch === undefined ? {} : { 'if-match': `"${ifMatch}"` };
        await expectRefused(
          world,
          op,
          { body: { ...valid, expectedTurn }, headers },
          `expectedTurn ${expectedTurn}, If-Match ${ifMatch}`,
          ['turn_conflict', 'invalid_request'],
        );
      },
      25,
    );
  });

  it('a taken tenant name is 409 tenant_exists; the owner invited to their own conversation is 400', async () => {
    for (const name of ['hostile-a', 'hostile-b']) {
      await expectRefused(world, route('post /v1/admin/tenants'), { body: { name } }, name, ['tenant_exists']);
    }
    await expectRefused(
      world,
      route('post /v1/conversations/{id}/participants'),
      { body: { subject: 'patient-1' } },
      'the owner as participant',
      ['invalid_request'],
    );
    tally.add(3);
  });
});

describe('bytes that are not a JSON document', () => {
  it('every route that takes a body refuses invalid UTF-8, truncated JSON and random bytes with 400', async () => {
    for (const op of writing()) {
      await check(
        tally,
        `broken bytes ${op.key}`,
        brokenBytes(validJson(op)),
        async (payload) => {
          await expectRefused(world, op, { payload }, `bytes ${payload.toString('hex').slice(0, 80)}`, [
            'invalid_request',
          ]);
        },
        25,
      );
    }
  });

  it('every route that takes a body refuses one over CONTINUUM_BODY_LIMIT with 413', async () => {
    for (const op of writing()) {
      await check(
        tally,
        `oversized ${op.key}`,
        fc.integer({ min: BODY_LIMIT + 1, max: 4 * BODY_LIMIT }),
        async (size) => {
          const payload = `{"content":"${'x'.repeat(size)}"}`;
          await expectRefused(world, op, { payload }, `a ${size}-byte body`, ['payload_too_large']);
        },
        3,
      );
    }
  });

  it('every route that takes a body refuses its valid body sent as another media type with 415', async () => {
    for (const op of writing()) {
      for (const contentType of [...NOT_JSON_TYPES, null]) {
        await expectRefused(world, op, { payload: validJson(op), contentType }, `Content-Type ${show(contentType)}`, [
          'unsupported_media_type',
        ]);
      }
      tally.add(NOT_JSON_TYPES.length + 1);
    }
  });
});

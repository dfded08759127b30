import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLAG_NAMES } from '../../src/flags/index.ts';
import {
  encodeText,
  hostileSegment,
  MALFORMED_ENCODINGS,
  malformedEventId,
  nastyText,
  queryPoison,
} from './support/arbitraries.ts';
import { expectRefused, show } from './support/harness.ts';
import { check, Tally } from './support/property.ts';
import { expectRefusal } from './support/refusal.ts';
import {
  listOperations,
  type Method,
  type Operation,
  pathParameters,
  queryParameters,
  send,
  specOf,
} from './support/routes.ts';
import { buildWorld, expectNoStateChange, snapshot, type World } from './support/world.ts';

/**
 * Path parameters (traversal, NUL, odd Unicode, malformed encodings, ids one
 * character off, other tenants' ids, over-long segments), query strings
 * (unknown keys, wrong types, out-of-range numbers, repeated keys, over-long
 * values, malformed encodings) and methods a path does not have: each a 4xx
 * problem, nothing changed.
 */
const tally = new Tally('params-query');
let world: World;
let operations: Operation[];

beforeAll(async () => {
  world = await buildWorld();
  operations = await listOperations(world);
});
afterAll(async () => {
  tally.report();
  await world?.t.close();
});

/** What a hostile value of each path parameter must not be, and what it may be near. */
function segmentFor(name: string) {
  const subjects = ['patient-1', 'patient-2', 'patient-3', 'auditor-1'];
  switch (name) {
    case 'id':
      return hostileSegment({
        near: [world.a.conversationId],
        foreign: [world.b.conversationId],
        exclude: [world.a.conversationId],
      });
    case 'subject':
      return hostileSegment({ near: ['patient-3'], exclude: subjects });
    case 'name':
      return hostileSegment({ near: ['retrieval'], exclude: [...FLAG_NAMES] });
    default:
      throw new Error(`no hostile generator for path parameter {${name}}: add one to params-query.test.ts`);
  }
}

describe('path parameters', () => {
  it('every route refuses hostile values of each of its path parameters with 400 or 404', async () => {
    for (const op of operations) {
      for (const parameter of pathParameters(op)) {
        await check(
          tally,
          `path ${op.key} {${parameter.name}}`,
          segmentFor(parameter.name),
          async (segment) => {
            const variant = { rawParams: { [parameter.name]: segment } };
            if (specOf(op).class === 'websocket') {
              // Without an Upgrade this route refuses every GET; its ids are tried in sync.test.ts.
              expectRefusal(await send(world, op, variant), `${op.key} {${parameter.name}}=${segment}`);
              return;
            }
            await expectRefused(world, op, variant, `{${parameter.name}} = ${show(segment)}`, [
              'invalid_request',
              'not_found',
            ]);
          },
          30,
        );
      }
    }
  });
});

describe('query strings', () => {
  /** Query text from pairs; a value array repeats its key. */
  const queryText = (pairs: [string, string | string[]][], raw: string[]) => {
    const parts = pairs.flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => `${encodeText(key)}=${encodeText(v)}`),
    );
    return `?${[...parts, ...raw].join('&')}`;
  };

  it('every route with query parameters refuses a query its schema refuses with 400', async () => {
    for (const op of operations.filter((o) => queryParameters(o).length > 0)) {
      const declared = queryParameters(op);
      const names = new Set(declared.map((p) => p.name));
      const valid = Object.entries(specOf(op).valid(world).query ?? {});
      const poisoned = fc.oneof(
        ...declared.map((p) => queryPoison(p).map((value) => [p.name, value] as [string, string | string[]])),
      );
      const unknown = fc
        .tuple(nastyText(), nastyText())
        .filter(([key]) => !names.has(key) && key.length > 0)
        .map(([key, value]) => [key, value] as [string, string]);
      const query = fc.record({
        bad: fc.array(fc.oneof(poisoned, unknown), { minLength: 1, maxLength: 3 }),
        keep: fc.subarray(valid),
        raw: fc.subarray(MALFORMED_ENCODINGS, { maxLength: 1 }),
      });
      await check(
        tally,
        `query ${op.key}`,
        query,
        async ({ bad, keep, raw }) => {
          const overridden = new Set(bad.map(([key]) => key));
          const pairs = [...keep.filter(([key]) => !overridden.has(key)), ...bad];
          const rawQuery = queryText(pairs, raw);
          if (specOf(op).class === 'stream') expect(rawQuery).not.toBe('?');
          await expectRefused(world, op, { rawQuery }, `query ${show(rawQuery, 200)}`, ['invalid_request']);
        },
        40,
      );
    }
  });

  it('a malformed resume id in ?lastEventId= is 400, never an open stream', async () => {
    const op = operations.find((o) => o.key === 'get /v1/conversations/{id}/events')!;
    await check(
      tally,
      'lastEventId query',
      malformedEventId(),
      async (id) => {
        await expectRefused(world, op, { rawQuery: `?lastEventId=${encodeText(id)}` }, `lastEventId ${show(id)}`, [
          'invalid_request',
        ]);
      },
      40,
    );
  });

  it('a cursor this server did not issue is 400', async () => {
    const op = operations.find((o) => o.key === 'get /v1/conversations')!;
    const issued = (cursor: string) => /^s:\d{1,15}$/.test(Buffer.from(cursor, 'base64url').toString('utf8'));
    await check(
      tally,
      'forged cursors',
      fc
        .oneof(nastyText(), fc.base64String({ maxLength: 40 }))
        .filter((c) => c.trim() !== '' && !issued(c) && c.length <= 200),
      async (cursor) => {
        await expectRefused(world, op, { rawQuery: `?cursor=${encodeText(cursor)}` }, `cursor ${show(cursor)}`, [
          'invalid_request',
        ]);
      },
      25,
    );
  });

  it('on routes that read no query string, a hostile one never breaks the request: refused for a missing token, ignored by public probes', async () => {
    const hostileQuery = fc.oneof(
      fc.array(fc.tuple(nastyText(), nastyText()), { minLength: 1, maxLength: 4 }).map((pairs) => queryText(pairs, [])),
      fc.constantFrom(...MALFORMED_ENCODINGS).map((raw) => `?${raw}`),
      fc.integer({ min: 1000, max: 100_000 }).map((n) => `?a=${'b'.repeat(n)}`),
      fc.constantFrom(
        '?__proto__[admin]=1',
        '?constructor.prototype.admin=1',
        '?a[b][c][d][e][f]=1',
        '?&&&==&',
        '??',
        '?#',
      ),
    );
    for (const op of operations.filter((o) => queryParameters(o).length === 0)) {
      const spec = specOf(op);
      await check(
        tally,
        `unread query ${op.key}`,
        hostileQuery,
        async (rawQuery) => {
          const label = `${op.key} with query ${show(rawQuery, 200)}`;
          if (spec.class === 'probe') {
            const before = await snapshot(world);
            const res = await send(world, op, { rawQuery });
            // A probe answers as it would without the query — or 400 for a malformed encoding.
            if (res.statusCode !== 200) expectRefusal(res, label, ['invalid_request']);
            await expectNoStateChange(world, before, label);
            world.settled = undefined;
            return;
          }
          const variant =
            spec.auth === 'none' ? { rawQuery, body: { hostile: true } } : { rawQuery, authorization: null };
          if (spec.class === 'websocket') {
            expectRefusal(await send(world, op, variant), label, ['invalid_request']);
            return;
          }
          await expectRefused(world, op, variant, `query ${show(rawQuery, 200)}`, ['invalid_request', 'token_invalid']);
        },
        10,
      );
    }
  });
});

describe('methods a path does not have', () => {
  it('every path answers the methods it lacks with 404', async () => {
    const byPath = new Map<string, Set<string>>();
    for (const op of operations) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method));
    const all: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const onePerPath = [...new Map(operations.map((op) => [op.path, op])).values()];
    for (const op of onePerPath) {
      const missing = all.filter((method) => !byPath.get(op.path)!.has(method));
      for (const method of missing) {
        await expectRefused(world, op, { method }, `method ${method}`, ['not_found']);
      }
      tally.add(missing.length);
    }
  });
});

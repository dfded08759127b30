import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CONTROL, malformedEventId, nastyText } from './support/arbitraries.ts';
import { expectRefused, show } from './support/harness.ts';
import { check, Tally, within } from './support/property.ts';
import { rawRequest } from './support/raw-http.ts';
import { expectRefusal } from './support/refusal.ts';
import { listOperations, type Operation, specOf, tokenOf } from './support/routes.ts';
import { buildWorld, expectNoStateChange, snapshot, type World } from './support/world.ts';

/**
 * Headers: CR, LF and NUL injected into the headers routes read
 * (Authorization, Idempotency-Key, If-Match, Last-Event-ID — in-process,
 * where nothing below Fastify stops them), huge values of those headers, and
 * over a real socket the requests Node's HTTP parser refuses (header
 * injection, headers over its size limit, broken request lines), which are
 * problem documents too. Each a 4xx, nothing changed.
 */
const tally = new Tally('headers');
let world: World;
let operations: Operation[];
let port: number;

beforeAll(async () => {
  world = await buildWorld();
  operations = await listOperations(world);
  const address = await world.t.app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(address).port);
});
afterAll(async () => {
  tally.report();
  // A connection left open by a refused request would keep the server from stopping: that fails here, quickly.
  if (world) await within(world.t.close(), 15_000, 'the app stopping after the hostile connections');
});

const route = (key: string) => operations.find((op) => op.key === key)!;
/** Header values travel as Latin-1: characters above U+00FF become '?'. */
const latin1 = (text: string) => Array.from(text, (c) => (c.charCodeAt(0) > 0xff ? '?' : c)).join('');
const injected = fc
  .tuple(nastyText(3), fc.constantFrom(...CONTROL), nastyText(3))
  .map(([a, control, b]) => latin1(`${a}${control}${b}`));
const huge = fc.integer({ min: 20_000, max: 300_000 }).map((n) => 'h'.repeat(n));

describe('header injection and huge headers, in-process', () => {
  it('an Authorization header with a control character or a huge value is 401 on every route behind a token', async () => {
    const guarded = operations.filter((op) => specOf(op).auth !== 'none');
    const spoiled = fc.oneof(
      fc.tuple(injected, fc.boolean()).map(([junk, before]) => ({ junk, before })),
      huge.map((junk) => ({ junk, before: false })),
    );
    for (const op of guarded) {
      const token = tokenOf(specOf(op), world)!;
      await check(
        tally,
        `authorization injection ${op.key}`,
        spoiled,
        async ({ junk, before }) => {
          const authorization = before ? `${junk}Bearer ${token}` : `Bearer ${token}${junk}`;
          await expectRefused(world, op, { authorization }, `Authorization ${show(authorization)}`, ['token_invalid']);
        },
        6,
      );
    }
  });

  it('an Idempotency-Key with a control character, empty or over 200 characters is 400', async () => {
    const op = route('post /v1/conversations/{id}/turns');
    const key = fc.oneof(
      injected,
      huge,
      fc.integer({ min: 201, max: 400 }).map((n) => 'k'.repeat(n)),
      fc.constant(''),
    );
    await check(
      tally,
      'idempotency-key',
      key,
      async (value) => {
        await expectRefused(world, op, { headers: { 'idempotency-key': value } }, `Idempotency-Key ${show(value)}`, [
          'invalid_request',
        ]);
      },
      40,
    );
  });

  it('an If-Match that is not the ETag of the current turn is 400', async () => {
    const op = route('post /v1/conversations/{id}/turns');
    const current = new RegExp(`^(?:W/)?"0*${world.a.turn}"$`);
    const value = fc
      .oneof(
        injected,
        huge,
        nastyText().map(latin1),
        fc.nat().map((n) => `"${n}"`),
        fc.constantFrom('*', '"3', '3', 'W/3'),
      )
      .filter((v) => !current.test(v.trim()));
    await check(
      tally,
      'if-match',
      value,
      async (ifMatch) => {
        await expectRefused(world, op, { headers: { 'if-match': ifMatch } }, `If-Match ${show(ifMatch)}`, [
          'invalid_request',
        ]);
      },
      40,
    );
  });

  it('a malformed Last-Event-ID is 400, never an open stream', async () => {
    const op = route('get /v1/conversations/{id}/events');
    const id = fc
      .oneof<fc.Arbitrary<string | string[]>[]>(
        malformedEventId().map(latin1),
        huge,
        // Two ids that disagree: the server cannot know which to resume from.
        fc.constant<string[]>(['000000000001.000001', '000000000002.000001']),
      )
      .filter((v) => Array.isArray(v) || (v.trim() !== '' && !/^\d{12}\.\d{6}$/.test(v.trim())));
    await check(
      tally,
      'last-event-id',
      id,
      async (value) => {
        await expectRefused(world, op, { headers: { 'last-event-id': value } }, `Last-Event-ID ${show(value)}`, [
          'invalid_request',
        ]);
      },
      40,
    );
  });
});

describe('requests Node refuses before any route, over a real socket', () => {
  /** A request whose one hostile part is `headerLines` (already CRLF-terminated lines) or the request line. */
  const request = (requestLine: string, headerLines: string) =>
    Buffer.from(`${requestLine}\r\nHost: 127.0.0.1\r\n${headerLines}Connection: close\r\n\r\n`, 'latin1');

  const hostileHeaders = fc.oneof(
    // A bare CR or LF, a NUL or another control byte inside a header value.
    fc
      .tuple(fc.constantFrom('\r', '\n', '\0', '\x01', '\x7f', '\r\n '), nastyText(2))
      .map(([control, text]) => `X-Note: a${control}${latin1(text)}\r\n`),
    // A header name that is not a token.
    fc.constantFrom('X Note: 1\r\n', 'X-Note : 1\r\n', ': empty\r\n', 'X\0Note: 1\r\n', 'X-Note\r\n', '(x): 1\r\n'),
    // Obsolete line folding.
    fc.constant('X-Note: a\r\n folded\r\n'),
    // Headers over Node's 16 KiB limit: 431.
    fc.integer({ min: 17_000, max: 200_000 }).map((n) => `X-Huge: ${'h'.repeat(n)}\r\n`),
    fc
      .integer({ min: 200, max: 2_000 })
      .map((n) => Array.from({ length: n }, (_, i) => `X-H${i}: ${'v'.repeat(20)}\r\n`).join('')),
    // Two Content-Length values, or one that is not a number.
    fc.constantFrom(
      'Content-Length: 1\r\nContent-Length: 2\r\n',
      'Content-Length: abc\r\n',
      'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n',
    ),
  );
  const hostileRequestLines = fc.oneof(
    fc.constantFrom(
      'GET /v1/conversations HTTP/9.9',
      'G\0T /v1/conversations HTTP/1.1',
      'GET /v1/conversations\0 HTTP/1.1',
      'GET /v1/conv ersations HTTP/1.1',
      'GET  HTTP/1.1',
      'BREW /v1/conversations HTTP/1.1',
      'GET /v1/conversations',
      'GET http://evil.example/v1/conversations HTTP/1.1',
      'GET * HTTP/1.1',
    ),
    fc.integer({ min: 17_000, max: 100_000 }).map((n) => `GET /v1/conversations?q=${'x'.repeat(n)} HTTP/1.1`),
  );

  it('hostile header bytes are answered with a 4xx problem document (400, 401 or 431) and change nothing', async () => {
    await check(
      tally,
      'raw headers',
      hostileHeaders,
      async (lines) => {
        const before = await snapshot(world);
        const answer = await rawRequest(port, request('GET /v1/conversations HTTP/1.1', lines));
        expectRefusal(answer, `raw header lines ${show(lines)}`, [
          'invalid_request',
          'token_invalid',
          'headers_too_large',
        ]);
        await expectNoStateChange(world, before, `raw header lines ${show(lines)}`);
      },
      30,
    );
  });

  it('raw dot segments and odd separators in a path never reach another route (in-process requests have them resolved by URL parsing)', async () => {
    const withId = operations.filter((op) => op.path.includes('{id}') && specOf(op).class === 'api');
    const id = world.a.conversationId;
    const pieces = [
      '..',
      '.',
      '%2e%2e',
      '%2E%2e',
      `x/../${id}`,
      `x/%2e%2e/${id}`,
      `./${id}`,
      `${id}/..`,
      `${id}%2f..`,
      `${id};x=1`,
      `${id}\\..`,
      `..\\${id}`,
      `/${id}`,
    ];
    await check(
      tally,
      'raw dot segments',
      fc.tuple(
        fc.constantFrom(...withId),
        fc.constantFrom(...pieces),
        fc.constantFrom('', '/..', '/.', '/%2e%2e', '//'),
      ),
      async ([op, piece, tail]) => {
        const spec = specOf(op);
        const call = spec.valid(world);
        const target = `${op.path.replace('{id}', piece).replace('{subject}', 'patient-3')}${tail}`;
        const body = call.body === undefined ? '' : JSON.stringify(call.body);
        const head = [
          `${op.method} ${target} HTTP/1.1`,
          'Host: 127.0.0.1',
          `Authorization: Bearer ${tokenOf(spec, world)}`,
          ...(body ? ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`] : []),
          'Connection: close',
        ];
        const label = `${op.method} ${target}`;
        const before = await snapshot(world);
        expectRefusal(await rawRequest(port, `${head.join('\r\n')}\r\n\r\n${body}`), label, [
          'not_found',
          'invalid_request',
        ]);
        await expectNoStateChange(world, before, label);
      },
      40,
    );
  });

  it('broken request lines are answered with a 4xx problem document and change nothing', async () => {
    await check(
      tally,
      'raw request lines',
      hostileRequestLines,
      async (line) => {
        const before = await snapshot(world);
        const answer = await rawRequest(port, request(line, ''));
        expectRefusal(answer, `request line ${show(line)}`);
        await expectNoStateChange(world, before, `request line ${show(line)}`);
      },
      20,
    );
  });
});

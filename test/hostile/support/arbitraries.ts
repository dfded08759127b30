import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import type { JsonSchema, Parameter } from './routes.ts';

/** Generators of hostile text, path segments, query strings and bodies. */

export const CONTROL = ['\r\n', '\n', '\r', '\0', '\t', '\x1b[31m', '\x7f', '\b', '\v', '\f'];
export const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'a\ud83d', '\ude00b'];
export const ODD_UNICODE = [
  '\u202e',
  '\ufeff',
  '\u200b',
  '\u2028',
  '\u0085',
  'e\u0301',
  '😀',
  '\uffff',
  '\ufffd',
  'ｃｎｖ＿',
  'İ',
  '\u{10ffff}',
  '𝟘',
];
const INJECTIONS = [
  '../',
  '..\\',
  '%00',
  '%2e%2e%2f',
  "' OR '1'='1",
  '"; DROP TABLE turns; --',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
];

/** Random text seeded with control characters, lone surrogates, odd Unicode and injection strings. */
export const nastyText = (maxPieces = 6): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        fc.constantFrom(...CONTROL, ...LONE_SURROGATES, ...ODD_UNICODE, ...INJECTIONS),
      ),
      { minLength: 1, maxLength: maxPieces },
    )
    .map((parts) => parts.join(''));

/** A long run of one character (plain, astral, NUL or combining). */
export const hugeText = (min: number, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom('x', '😀', '\0', 'é', '%')).map(([n, c]) => c.repeat(n));

/** Whether every string (and key) of a value is well-formed UTF-16 (an oracle independent of the server's). */
export function wellFormed(value: unknown): boolean {
  const ok = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
  if (typeof value === 'string') return ok(value);
  if (Array.isArray(value)) return value.every(wellFormed);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).every(([k, v]) => ok(k) && wellFormed(v));
  }
  return true;
}

/** Percent-encode text as UTF-8; a lone surrogate becomes its (invalid) three-byte form, e.g. `%ED%A0%80`. */
export function encodeText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += encodeURIComponent(text.slice(i, i + 2));
        i += 1;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      out +=
        `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase();
      continue;
    }
    out += encodeURIComponent(text[i]!);
  }
  return out;
}

function decodeOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** URL text that is not valid percent-encoded UTF-8 (or is suspicious when decoded). */
export const MALFORMED_ENCODINGS = [
  '%',
  '%Z',
  '%ZZ',
  '%E0%A4%A',
  '%FF',
  '%ED%A0%80',
  '%C0%AF',
  '%F8%88%80%80%80',
  '%u002e',
];

/**
 * A hostile path segment, as URL text: traversal (with encoded slashes, so
 * it stays one segment), NUL and control characters, odd Unicode, malformed
 * encodings, ids one character away from `near`, well-formed ids nobody has,
 * `foreign` ids (another tenant's), over-long and empty segments. Never a
 * bare `.` or `..` (URL normalization resolves those before routing, as
 * browsers and proxies do) and never one of `exclude`.
 */
export function hostileSegment(options: {
  near: string[];
  foreign?: string[];
  exclude: string[];
}): fc.Arbitrary<string> {
  const variants = fc.oneof(
    ...options.near.map((id) =>
      fc.oneof(
        fc.constant(id.toUpperCase()),
        fc.constant(`${id}x`),
        fc.constant(id.slice(0, -1)),
        fc.constant(` ${id}`),
        fc.constant(`${id}\0`),
        fc.constant(`${id}\r\n`),
        fc
          .nat({ max: Math.max(0, id.length - 1) })
          .map((i) => `${id.slice(0, i)}${id[i] === 'z' ? 'a' : 'z'}${id.slice(i + 1)}`),
      ),
    ),
  );
  const decoded = fc.oneof(
    nastyText(),
    variants,
    fc.stringMatching(/^cnv_[a-z2-7]{32}$/),
    fc.constantFrom('../../etc/passwd', '..\\..\\windows\\win.ini', '/etc/passwd', '....//....//', ''),
    hugeText(65, 400),
    ...(options.foreign?.length ? [fc.constantFrom(...options.foreign)] : []),
  );
  const exclude = new Set(options.exclude);
  return fc
    .oneof(
      { weight: 4, arbitrary: decoded.map(encodeText) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...MALFORMED_ENCODINGS, '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%252e%252e%252f'),
      },
    )
    .filter((text) => {
      const value = decodeOrNull(text);
      return value === null || (value !== '.' && value !== '..' && !exclude.has(value));
    });
}

const ajv = addFormats.default(new Ajv.default({ strict: false, allErrors: false, coerceTypes: false }));
const coercing = addFormats.default(new Ajv.default({ strict: false, allErrors: false, coerceTypes: true }));

/** Values of a query parameter that its schema refuses (decoded text; an array sends the key twice). */
export function queryPoison(parameter: Parameter): fc.Arbitrary<string | string[]> {
  const schema = parameter.schema;
  const check = coercing.compile({ type: 'object', properties: { v: schema }, required: ['v'] });
  const refused = (value: string | string[]) => !check({ v: Array.isArray(value) ? [...value] : value });
  const options: fc.Arbitrary<string | string[]>[] = [
    fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })).map(([x, y]) => [x, `${y}~`]),
  ];
  if (schema['type'] === 'integer') {
    const min = schema['minimum'] as number | undefined;
    const max = schema['maximum'] as number | undefined;
    if (min !== undefined) options.push(fc.integer({ min: 1, max: 1_000_000 }).map((k) => String(min - k)));
    if (max !== undefined) options.push(fc.integer({ min: 1, max: 1_000_000 }).map((k) => String(max + k)));
    options.push(
      fc.constantFrom('abc', '1.5', 'NaN', '-Infinity', '1,000', '½', '٣', '1_000', '0x1g', '--1', 'null', '[]', '{}'),
      nastyText().filter((s) => /[a-df-wyzA-DF-WYZ\0]/.test(s)),
    );
  }
  if (schema['type'] === 'string' || schema['anyOf']) {
    const maxLength = schema['maxLength'] as number | undefined;
    if (maxLength !== undefined) {
      options.push(
        fc.integer({ min: maxLength + 1, max: maxLength + 2000 }).map((n) => 'q'.repeat(n)),
        fc.constant('😀'.repeat(maxLength + 1)),
      );
    }
    if (((schema['minLength'] as number | undefined) ?? 0) > 0) options.push(fc.constant(''));
    options.push(nastyText(), fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-02-30T25:00:00Z', 'now'));
  }
  return fc.oneof(...options).filter(refused);
}

/** Whether `bytes` are a JSON document (valid UTF-8 that parses). */
export function isJson(bytes: Buffer): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

const nested = (depth: number, inner: string) => '['.repeat(depth) + inner + ']'.repeat(depth);

/** Values that break a JSON body schema: random JSON, mutations of the valid body, wrong top-level types. */
export function breakingBody(schema: JsonSchema, valid: unknown): fc.Arbitrary<unknown> {
  const validate = ajv.compile(schema);
  const base = valid as Record<string, unknown>;
  const keys = Object.keys(base);
  const anything = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    nastyText(),
    hugeText(1000, 40_000),
    fc.constant(JSON.parse(nested(2000, '0')) as unknown),
  );
  const mutation = fc.oneof(
    fc.tuple(fc.constantFrom(...keys), anything).map(([key, value]) => ({ ...base, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key))),
    fc.tuple(nastyText(), anything).map(([key, value]) => ({ ...base, [key]: value })),
    fc
      .tuple(fc.constantFrom(...keys), fc.constantFrom(...LONE_SURROGATES))
      .map(([key, bad]) => ({ ...base, [key]: typeof base[key] === 'string' ? `${base[key]}${bad}` : bad })),
  );
  return fc
    .oneof(
      fc.jsonValue({ maxDepth: 4 }),
      mutation,
      fc.constantFrom<unknown>(null, [], [valid], 'body', 0, true, { [`${keys[0]}\ud800`]: 1 }),
    )
    .filter((value) => !validate(value) || !wellFormed(value));
}

/** Bytes that no JSON route may take: invalid UTF-8 spliced into `json`, truncations, random non-JSON bytes. */
export function brokenBytes(json: string): fc.Arbitrary<Buffer> {
  const bytes = Buffer.from(json);
  const bad = fc.constantFrom(
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xe2, 0x82],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0x80],
    [0xf4, 0x90, 0x80, 0x80],
  );
  return fc
    .oneof(
      fc
        .tuple(fc.nat({ max: bytes.length }), bad)
        .map(([at, b]) => Buffer.concat([bytes.subarray(0, at), Buffer.from(b), bytes.subarray(at)])),
      fc.nat({ max: Math.max(0, bytes.length - 1) }).map((at) => bytes.subarray(0, at)),
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.integer({ min: 100, max: 50_000 }).map((depth) => Buffer.from('['.repeat(depth))),
    )
    .filter((b) => !isJson(b));
}

/** Media types that are not JSON. */
export const NOT_JSON_TYPES = [
  'text/plain',
  'text/json',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/vnd.api+json',
  'application/octet-stream',
  'json',
  '',
  'application/json\r\nx-injected: 1',
  'application/json\0',
];

/** Resume ids that are not event ids: never blank (a blank one means "from the start"). */
export function malformedEventId(): fc.Arbitrary<string> {
  const valid = '000000000003.000001';
  return fc
    .oneof(
      nastyText(),
      fc.constantFrom(
        '000000000003.00001',
        '3.1',
        '000000000003.0000001',
        '-00000000003.000001',
        '000000000003,000001',
        '０００００００００００３.０００００１',
        `${valid} x`,
        `\0${valid}`,
        `${valid}\r\nevent: done`,
        '999999999999.9999999',
        'null',
      ),
      fc.stringMatching(/^\d{1,13}\.\d{1,7}$/),
    )
    .filter((id) => id.trim() !== '' && !/^\d{12}\.\d{6}$/.test(id.trim()));
}

import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/index.ts';
import { ackFrame, ephemeralFrame, errorFrame, eventFrame, readyFrame } from '../../src/sync/frames.ts';
import { type ParsedFrame, parseClientFrame, SYNC_CLOSE, SYNC_PROTOCOL_VERSION } from '../../src/sync/protocol.ts';

const limits = { maxFrameBytes: 4096, maxTurnChars: 20 };
const parse = (frame: unknown) => parseClientFrame(typeof frame === 'string' ? frame : JSON.stringify(frame), limits);
const problem = (parsed: ParsedFrame) => {
  if (parsed.ok) throw new Error(`expected a problem, got ${JSON.stringify(parsed.frame)}`);
  return parsed.problem;
};

describe('sync protocol: client frames', () => {
  it('accepts the four frame types with their defaults filled in', () => {
    expect(parse({ type: 'auth', token: 'eyJ.x.y' })).toEqual({ ok: true, frame: { type: 'auth', token: 'eyJ.x.y' } });
    expect(parse({ type: 'subscribe' })).toEqual({ ok: true, frame: { type: 'subscribe', after: null } });
    expect(parse({ type: 'subscribe', after: '000000000007.000003', ref: 'r1' })).toEqual({
      ok: true,
      frame: { type: 'subscribe', after: '000000000007.000003', ref: 'r1' },
    });
    expect(parse({ type: 'append', role: 'user', content: 'Any allergies?', expectedTurn: 3 })).toEqual({
      ok: true,
      frame: {
        type: 'append',
        role: 'user',
        content: 'Any allergies?',
        expectedTurn: 3,
        respond: false,
        priority: 'normal',
      },
    });
    expect(
      parse({
        type: 'append',
        role: 'clinician',
        content: 'ok',
        expectedTurn: 0,
        respond: true,
        priority: 'high',
        idempotencyKey: 'msg-1',
        ref: 'a-1',
      }),
    ).toEqual({
      ok: true,
      frame: {
        type: 'append',
        role: 'clinician',
        content: 'ok',
        expectedTurn: 0,
        respond: true,
        priority: 'high',
        idempotencyKey: 'msg-1',
        ref: 'a-1',
      },
    });
    expect(parse({ type: 'typing' })).toEqual({ ok: true, frame: { type: 'typing' } });
  });

  it('refuses what is not one JSON object, or not a known type, with a detail that says so', () => {
    expect(problem(parse('not json')).detail).toMatch(/JSON object/);
    expect(problem(parse('[1,2]')).detail).toMatch(/JSON object/);
    expect(problem(parse('null')).detail).toMatch(/JSON object/);
    expect(problem(parse({ type: 'delete' })).detail).toMatch(/type must be one of auth, subscribe, append, typing/);
    expect(problem(parse({ token: 'x' })).detail).toMatch(/type must be one of/);
    expect(problem(parseClientFrame(new Uint8Array([1, 2, 3]), limits)).detail).toMatch(/binary frames/);
  });

  it('refuses unknown fields and malformed ones, echoing a readable ref', () => {
    expect(problem(parse({ type: 'typing', text: 'hello' })).detail).toBe('unknown field in typing: text');
    expect(problem(parse({ type: 'auth' })).detail).toMatch(/token must be a string/);
    expect(problem(parse({ type: 'auth', token: 'a\nb' })).detail).toMatch(
      /token must be a string of 1 to \d+ printable/,
    );
    expect(problem(parse({ type: 'subscribe', after: '42', ref: 'r9' }))).toEqual({
      detail: 'after must be an event id this server issued, or null',
      ref: 'r9',
    });
    expect(problem(parse({ type: 'subscribe', ref: 'x'.repeat(65) })).detail).toMatch(/ref must be/);
    const append = { type: 'append', role: 'user', content: 'hi', expectedTurn: 1 };
    expect(problem(parse({ ...append, role: 'admin' })).detail).toMatch(/role must be one of/);
    expect(problem(parse({ ...append, content: '' })).detail).toMatch(/content must be a non-empty string/);
    expect(problem(parse({ ...append, expectedTurn: -1 })).detail).toMatch(/expectedTurn/);
    expect(problem(parse({ ...append, expectedTurn: 1.5 })).detail).toMatch(/expectedTurn/);
    expect(problem(parse({ ...append, expectedTurn: undefined })).detail).toMatch(/expectedTurn/);
    expect(problem(parse({ ...append, respond: 'yes' })).detail).toMatch(/respond/);
    expect(problem(parse({ ...append, priority: 'urgent' })).detail).toMatch(/priority/);
    expect(problem(parse({ ...append, idempotencyKey: '' })).detail).toMatch(/idempotencyKey/);
  });

  it('counts content in characters as the HTTP route does (code points), and refuses longer content', () => {
    const emoji = '💊'.repeat(20); // 40 UTF-16 units, 20 characters
    expect(parse({ type: 'append', role: 'user', content: emoji, expectedTurn: 0 }).ok).toBe(true);
    expect(problem(parse({ type: 'append', role: 'user', content: `${emoji}!`, expectedTurn: 0 })).detail).toBe(
      'content is longer than 20 characters',
    );
  });

  it('closes with 1009 on a frame over the size limit, counted in bytes', () => {
    const big = JSON.stringify({ type: 'typing', pad: 'é'.repeat(2100) }); // over 4096 bytes, under 4096 chars
    expect(big.length).toBeLessThan(4096);
    expect(problem(parseClientFrame(big, limits))).toEqual({
      detail: 'frames are limited to 4096 bytes',
      close: SYNC_CLOSE.tooBig,
    });
  });

  it('has the documented close codes', () => {
    expect(SYNC_CLOSE).toMatchObject({ unauthorized: 4001, notFound: 4004, tooSlow: 4008, restarting: 1012 });
  });
});

describe('sync protocol: server frames', () => {
  it('embeds a stored event’s JSON data as is, and ephemeral events with id null', () => {
    const text = eventFrame({ id: '000000000008.000001', event: 'delta', data: '{"text":"Take it with food."}' });
    expect(JSON.parse(text)).toEqual({
      type: 'event',
      id: '000000000008.000001',
      event: 'delta',
      data: { text: 'Take it with food.' },
    });
    expect(JSON.parse(ephemeralFrame('typing', { subject: 'clinician-1', connection: 'conn_1' }))).toEqual({
      type: 'event',
      id: null,
      event: 'typing',
      data: { subject: 'clinician-1', connection: 'conn_1' },
    });
  });

  it('renders errors like problem documents, keeping extras such as currentTurn and missed', () => {
    const conflict = new AppError('turn_conflict', 'The conversation is at turn 4, not 3', {
      extras: { currentTurn: 4, missed: [{ number: 4 }] },
    });
    expect(JSON.parse(errorFrame(conflict, 'a-7'))).toEqual({
      type: 'error',
      code: 'turn_conflict',
      status: 409,
      title: 'The conversation has moved on',
      detail: 'The conversation is at turn 4, not 3',
      currentTurn: 4,
      missed: [{ number: 4 }],
      ref: 'a-7',
    });
  });

  it('versions ready and acknowledges appends with the stored turn', () => {
    const ready = JSON.parse(
      readyFrame({
        conversationId: 'cnv_x',
        turn: 2,
        status: 'open',
        subject: 'patient-1',
        expiresAt: '2026-01-01T00:30:00.000Z',
        connection: 'conn_1',
      }),
    );
    expect(ready).toMatchObject({ type: 'ready', protocol: SYNC_PROTOCOL_VERSION, turn: 2 });
    const turn = { number: 3, role: 'user' as const, content: 'hi', createdAt: '2026-01-01T00:00:00.000Z', hash: 'h' };
    expect(JSON.parse(ackFrame({ turn, currentTurn: 3, replayed: false }))).toEqual({
      type: 'ack',
      turn,
      currentTurn: 3,
      replayed: false,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { isAppError } from '../../src/errors/index.ts';
import {
  compareEventIds,
  formatEventId,
  isEventId,
  MAX_EVENT_SEQ,
  parseEventId,
} from '../../src/streaming/event-id.ts';
import { createHeartbeat, formatComment, formatEvent, parseLastEventId } from '../../src/streaming/sse.ts';
import { ManualTimers, seededRandom } from './helpers.ts';

describe('formatEvent', () => {
  it('frames id, event, retry and data, ending with the blank line that dispatches', () => {
    expect(formatEvent({ id: '000000000008.000001', event: 'delta', data: '{"text":"Hi"}', retry: 2000 })).toBe(
      'id: 000000000008.000001\nevent: delta\nretry: 2000\ndata: {"text":"Hi"}\n\n',
    );
    expect(formatEvent({ data: 'only data' })).toBe('data: only data\n\n');
  });

  it('splits multi-line data on LF, CRLF and CR into one data line each', () => {
    expect(formatEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(formatEvent({ data: 'trailing\n' })).toBe('data: trailing\ndata: \n\n');
  });

  it('keeps empty data and leading spaces intact (one space after the colon is the separator)', () => {
    expect(formatEvent({ data: '' })).toBe('data: \n\n');
    expect(formatEvent({ data: '  indented' })).toBe('data:   indented\n\n');
  });

  it('refuses ids with line breaks or NUL, event names with line breaks, and bad retry values', () => {
    expect(() => formatEvent({ id: 'a\nb', data: '' })).toThrow(TypeError);
    expect(() => formatEvent({ id: 'a\rb', data: '' })).toThrow(TypeError);
    expect(() => formatEvent({ id: 'a\0b', data: '' })).toThrow(TypeError);
    expect(() => formatEvent({ event: 'delta\nevent: done', data: '' })).toThrow(TypeError);
    expect(() => formatEvent({ retry: -1, data: '' })).toThrow(TypeError);
    expect(() => formatEvent({ retry: 1.5, data: '' })).toThrow(TypeError);
  });
});

describe('formatComment', () => {
  it('frames a comment, one colon line per line of text', () => {
    expect(formatComment('queue position 3')).toBe(': queue position 3\n\n');
    expect(formatComment('a\nb')).toBe(': a\n: b\n\n');
    expect(formatComment()).toBe(':\n\n');
  });
});

describe('createHeartbeat', () => {
  it('sends a comment after each interval of silence, postponed by touch, until stopped', () => {
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    const sent: string[] = [];
    const heartbeat = createHeartbeat({ send: (chunk) => sent.push(chunk), intervalMs: 1000, clock, timers });
    timers.advance(999);
    expect(sent).toEqual([]);
    timers.advance(1);
    expect(sent).toEqual([': heartbeat\n\n']);
    timers.advance(600);
    heartbeat.touch(); // a real write at 1600: silence now ends at 2600
    timers.advance(900);
    expect(sent).toHaveLength(1);
    timers.advance(100);
    expect(sent).toHaveLength(2);
    heartbeat.stop();
    heartbeat.stop();
    timers.advance(10_000);
    expect(sent).toHaveLength(2);
    expect(timers.pending).toBe(0);
  });

  it('stops instead of throwing from its timer when the stream is gone', () => {
    const clock = new FakeClock();
    const timers = new ManualTimers(clock);
    let calls = 0;
    createHeartbeat({
      send: () => {
        calls += 1;
        throw new Error('write after end');
      },
      intervalMs: 100,
      clock,
      timers,
    });
    expect(() => timers.advance(1_000)).not.toThrow();
    expect(calls).toBe(1);
    expect(timers.pending).toBe(0);
  });

  it('refuses a non-positive interval', () => {
    expect(() => createHeartbeat({ send: () => {}, intervalMs: 0 })).toThrow(TypeError);
  });
});

describe('event ids', () => {
  it('pads turn and sequence so that text order is numeric order', () => {
    expect(formatEventId(42, 17)).toBe('000000000042.000017');
    expect(parseEventId('000000000042.000017')).toEqual({ turn: 42, seq: 17 });
    const random = seededRandom(7);
    for (let i = 0; i < 2000; i += 1) {
      const a = { turn: Math.floor(random() * 2000), seq: Math.floor(random() * 2000) };
      const b = { turn: Math.floor(random() * 2000), seq: Math.floor(random() * 2000) };
      const numeric = a.turn - b.turn || a.seq - b.seq;
      const text = compareEventIds(formatEventId(a.turn, a.seq), formatEventId(b.turn, b.seq));
      expect(Math.sign(text)).toBe(Math.sign(numeric));
    }
    expect(compareEventIds(null, formatEventId(0, 0))).toBeLessThan(0);
    expect(compareEventIds(formatEventId(0, 0), null)).toBeGreaterThan(0);
    expect(compareEventIds(null, null)).toBe(0);
  });

  it('rejects out-of-range parts and malformed ids', () => {
    expect(() => formatEventId(-1, 0)).toThrow(TypeError);
    expect(() => formatEventId(1, MAX_EVENT_SEQ + 1)).toThrow(TypeError);
    expect(() => formatEventId(1.5, 0)).toThrow(TypeError);
    for (const bad of ['', '42.17', '000000000042-000017', '000000000042.000017\n', 'x00000000042.000017']) {
      expect(isEventId(bad)).toBe(false);
      expect(parseEventId(bad)).toBeNull();
    }
  });
});

describe('parseLastEventId', () => {
  it('returns null when absent or blank, and the id when well formed', () => {
    expect(parseLastEventId(undefined)).toBeNull();
    expect(parseLastEventId(null)).toBeNull();
    expect(parseLastEventId('  ')).toBeNull();
    expect(parseLastEventId([])).toBeNull();
    expect(parseLastEventId(' 000000000003.000004 ')).toBe('000000000003.000004');
    expect(parseLastEventId(['000000000003.000004', '000000000003.000004'])).toBe('000000000003.000004');
  });

  it('answers invalid_request for an id this server never issued or for conflicting values', () => {
    for (const bad of ['garbage', '3.4', ['000000000003.000004', '000000000003.000005']]) {
      try {
        parseLastEventId(bad);
        expect.unreachable();
      } catch (error) {
        expect(isAppError(error) && error.code).toBe('invalid_request');
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { createCoalescer } from '../../src/streaming/coalescer.ts';
import { ManualTimers, seededRandom } from './helpers.ts';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function setup(options: { maxBytes?: number; maxDelayMs?: number; firstAtOnce?: boolean } = {}) {
  const clock = new FakeClock();
  const timers = new ManualTimers(clock);
  const flushed: string[] = [];
  const coalescer = createCoalescer({ onFlush: (text) => flushed.push(text), timers, ...options });
  return { timers, flushed, coalescer };
}

describe('createCoalescer', () => {
  it('flushes as soon as 1024 bytes are buffered', () => {
    const { flushed, coalescer } = setup();
    coalescer.push('a'.repeat(1000));
    coalescer.push('b'.repeat(23));
    expect(flushed).toEqual([]);
    expect(coalescer.bufferedBytes).toBe(1023);
    coalescer.push('c');
    expect(flushed).toEqual([`${'a'.repeat(1000)}${'b'.repeat(23)}c`]);
    expect(coalescer.bufferedBytes).toBe(0);
  });

  it('flushes 100 ms after the first buffered byte, not after the last', () => {
    const { timers, flushed, coalescer } = setup();
    coalescer.push('Hel');
    timers.advance(60);
    coalescer.push('lo');
    timers.advance(39);
    expect(flushed).toEqual([]);
    timers.advance(1);
    expect(flushed).toEqual(['Hello']);
    coalescer.push(' world');
    timers.advance(99);
    expect(flushed).toEqual(['Hello']);
    timers.advance(1);
    expect(flushed).toEqual(['Hello', ' world']);
  });

  it('with firstAtOnce, sends the first delta at once and coalesces the rest', () => {
    const { timers, flushed, coalescer } = setup({ firstAtOnce: true });
    coalescer.push('Hel');
    expect(flushed).toEqual(['Hel']);
    coalescer.push('lo');
    coalescer.push(' world');
    timers.advance(99);
    expect(flushed).toEqual(['Hel']);
    timers.advance(1);
    expect(flushed).toEqual(['Hel', 'lo world']);
  });

  it('restarts the delay after a size flush, and an idle coalescer holds no timer', () => {
    const { timers, flushed, coalescer } = setup({ maxBytes: 4 });
    coalescer.push('abcd');
    expect(flushed).toEqual(['abcd']);
    expect(timers.pending).toBe(0);
    timers.advance(50);
    coalescer.push('e');
    timers.advance(99);
    expect(flushed).toEqual(['abcd']);
    timers.advance(1);
    expect(flushed).toEqual(['abcd', 'e']);
  });

  it('flushes the rest on end, then refuses more deltas', () => {
    const { timers, flushed, coalescer } = setup();
    coalescer.push('tail');
    coalescer.end();
    coalescer.end();
    expect(flushed).toEqual(['tail']);
    expect(timers.pending).toBe(0);
    expect(() => coalescer.push('late')).toThrow(TypeError);
    const empty = setup();
    empty.coalescer.end();
    expect(empty.flushed).toEqual([]);
  });

  it('flush() empties the buffer now and ignores empty deltas', () => {
    const { timers, flushed, coalescer } = setup();
    coalescer.push('');
    expect(timers.pending).toBe(0);
    coalescer.push('x');
    coalescer.flush();
    coalescer.flush();
    expect(flushed).toEqual(['x']);
    expect(timers.pending).toBe(0);
  });

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    const { flushed, coalescer } = setup();
    coalescer.push('é'.repeat(511)); // 1022 bytes
    expect(flushed).toEqual([]);
    coalescer.push('é');
    expect(flushed).toEqual(['é'.repeat(512)]);
    coalescer.push('🩺'.repeat(255)); // 1020 bytes
    expect(flushed).toHaveLength(1);
    coalescer.push('🩺');
    expect(flushed).toEqual(['é'.repeat(512), '🩺'.repeat(256)]);
  });

  it('never splits a surrogate pair that arrives across two deltas', () => {
    const { timers, flushed, coalescer } = setup({ maxBytes: 8 });
    const [high, low] = ['🩺'.charAt(0), '🩺'.charAt(1)];
    coalescer.push(`abcdefg${high}`);
    expect(flushed).toEqual(['abcdefg']);
    timers.advance(1000);
    expect(flushed).toEqual(['abcdefg']);
    coalescer.push(`${low}!`);
    timers.advance(100);
    expect(flushed).toEqual(['abcdefg', '🩺!']);
    coalescer.push(`end${high}`);
    coalescer.end();
    expect(flushed.at(-1)).toBe(`end${high}`);
  });

  it('passes random deltas through unchanged, in order, as whole characters within the limits', () => {
    const random = seededRandom(42);
    const alphabet = ['a', 'é', '中', '🩺', '\n', ' '];
    const { timers, flushed, coalescer } = setup({ maxBytes: 64, maxDelayMs: 20 });
    let input = '';
    for (let i = 0; i < 2000; i += 1) {
      let delta = '';
      const length = Math.floor(random() * 6);
      for (let j = 0; j < length; j += 1) delta += alphabet[Math.floor(random() * alphabet.length)];
      // Split some deltas inside a surrogate pair, as a careless provider might.
      if (random() < 0.1 && delta.length > 1) {
        const cut = Math.floor(random() * delta.length);
        coalescer.push(delta.slice(0, cut));
        coalescer.push(delta.slice(cut));
      } else {
        coalescer.push(delta);
      }
      input += delta;
      timers.advance(Math.floor(random() * 8));
    }
    coalescer.end();
    expect(flushed.join('')).toBe(input);
    for (const chunk of flushed) {
      expect(chunk).not.toBe('');
      expect(LONE_SURROGATE.test(chunk)).toBe(false);
      expect(Buffer.byteLength(chunk)).toBeLessThan(64 + 4 * 5);
    }
  });

  it('refuses nonsense limits at construction', () => {
    expect(() => createCoalescer({ onFlush: () => {}, maxBytes: 0 })).toThrow(TypeError);
    expect(() => createCoalescer({ onFlush: () => {}, maxDelayMs: -1 })).toThrow(TypeError);
  });
});
